import Foundation
import Hummingbird
import Logging
import SlipwayACR
import SlipwayKernel
import SlipwayStore
import Triggers

/// The server's HTTP surface: the JSON API under `/api/v1` (tasks, runs, logs followed with
/// Server-Sent Events, cancel, the dependency graph) and the webhook receivers under `/hooks`.
struct ServerAPI {
    let store: any SlipwayStore
    let evaluator: TaskEvaluator
    let dispatcher: RunDispatcher
    let supervisor: TriggerSupervisor
    let hub: RunEventHub
    /// Required as `Authorization: Bearer …` on `/api` when set.
    let apiToken: String?
    /// The HMAC key (GitHub, Gitea) or token (GitLab) of `/hooks/git/{task}`; nil: refused.
    let webhookSecret: String?
    /// Required on `/hooks/registry` when set (`Authorization: Bearer …` or `?token=`).
    let registryHookToken: String?
    /// Who may use the dashboard, and its CSRF token (one per server start).
    let dashboardAccess: DashboardAccess

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let api = router.group("api/v1").add(middleware: TokenMiddleware(token: apiToken))
        api.get("tasks") { _, _ in try await answer { try JSONBody.response(try await taskViews()) } }
        api.post("tasks") { request, _ in try await answer { try await createTask(request, name: nil) } }
        api.get("tasks/:name") { _, context in try await answer { try await taskView(try context.parameters.require("name")) } }
        api.put("tasks/:name") { request, context in try await answer { try await createTask(request, name: try context.parameters.require("name")) } }
        api.delete("tasks/:name") { _, context in
            try await answer {
                let name = try context.parameters.require("name")
                guard try await store.deleteTask(named: name) else { throw ServerError(.notFound, "no task named '\(name)'") }
                return try JSONBody.response(API.HookAnswer(result: "task \(name) removed", runs: []))
            }
        }
        for (verb, enabled) in [("enable", true), ("disable", false)] {
            api.post("tasks/:name/\(verb)") { _, context in
                try await answer {
                    let name = try context.parameters.require("name")
                    guard var task = try await store.task(named: name) else { throw ServerError(.notFound, "no task named '\(name)'") }
                    task.enabled = enabled
                    task.updated = Date()
                    try await store.save(task)
                    return try await taskView(name)
                }
            }
        }
        api.post("tasks/:name/runs") { request, context in try await answer { try await runTask(request, name: try context.parameters.require("name")) } }
        api.get("runs") { request, _ in try await answer { try await listRuns(request) } }
        api.get("runs/:id") { _, context in try await answer { try await runView(try context.parameters.require("id")) } }
        api.get("runs/:id/events") { request, context in try await answer { try await events(request, run: try context.parameters.require("id")) } }
        api.post("runs/:id/cancel") { _, context in
            try await answer {
                let id = try context.parameters.require("id")
                guard try await dispatcher.cancel(id) else { throw ServerError(.conflict, "run \(id) is not queued or running") }
                return try JSONBody.response(API.Accepted(id: id, duplicate: false), status: .accepted)
            }
        }
        api.get("deps") { _, _ in
            try await answer {
                var images: [ImageRecord] = []
                for task in try await store.tasks() {
                    if let image = try await store.latestImage(ofTask: task.name) { images.append(image) }
                }
                return try JSONBody.response(API.Dependencies(images: images))
            }
        }
        router.post("hooks/git/:task") { request, context in try await answer { try await gitHook(request, task: try context.parameters.require("task")) } }
        router.post("hooks/registry") { request, _ in try await answer { try await registryHook(request) } }
        router.get("healthz") { _, _ in try JSONBody.response(API.HookAnswer(result: "ok", runs: [])) }
        Dashboard(api: self, access: dashboardAccess).register(on: router)
        return router
    }

    /// Errors become JSON with the status their category says.
    private func answer(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as HTTPError {
            return JSONBody.error(error.body ?? "\(error.status)", status: error.status.code)
        } catch {
            return JSONBody.error("\(error)", status: ErrorCategory.of(error).httpStatus)
        }
    }

    // MARK: Tasks

    func view(of record: TaskRecord, detailed: Bool) async -> API.TaskView {
        var view = API.TaskView(
            name: record.name, format: record.format, enabled: record.enabled, created: record.created, updated: record.updated, triggers: [])
        do {
            let task = try evaluator.evaluate(record, run: RunInfo(id: "show", trigger: "check", values: record.values))
            view.triggers = task.triggers.map {
                API.TriggerView(kind: $0.kind, configuration: $0.configuration, filter: $0.filter != nil, location: $0.location.description)
            }
        } catch {
            view.error = "\(error)"
        }
        if detailed {
            view.text = record.text
            view.values = record.values
            view.settings = record.settings
            view.deliveries = try? await store.deliveries(task: record.name, limit: 20)
        }
        return view
    }

    private func taskViews() async throws -> [API.TaskView] {
        var views: [API.TaskView] = []
        for record in try await store.tasks() { views.append(await view(of: record, detailed: false)) }
        return views
    }

    private func taskView(_ name: String) async throws -> Response {
        guard let record = try await store.task(named: name) else { throw ServerError(.notFound, "no task named '\(name)'") }
        return try JSONBody.response(await view(of: record, detailed: true))
    }

    /// Creates (POST) or replaces (PUT, or POST with `replace`) a task after evaluating it once:
    /// a recipe that does not evaluate, or whose triggers are wrong, is refused with its line.
    private func createTask(_ request: Request, name: String?) async throws -> Response {
        let input = try await JSONBody.decode(API.TaskInput.self, from: request)
        let format = input.format ?? "lua"
        let values = input.values ?? .object([:])
        guard case .object = values else { throw ServerError(.invalidInput, "values: expected an object") }
        let taskName: String
        switch format {
        case "lua":
            guard input.name == nil || input.name == name, input.settings == nil else {
                throw ServerError(.invalidInput, "a Lua recipe names its task and declares its triggers itself (task { name = …, triggers = … })")
            }
            // The recipe names the task; checked now, under the name its messages will use.
            taskName = try evaluator.check(
                TaskRecord(name: name ?? "new", format: format, text: input.text, values: values, created: Date(), updated: Date()), naming: true
            ).name
        case ACRTaskFile.format:
            guard let given = input.name ?? name, !given.isEmpty else { throw ServerError(.invalidInput, "an acr-task.yaml task needs a name (--name)") }
            taskName = try evaluator.check(
                TaskRecord(name: given, format: format, text: input.text, values: values, settings: input.settings, created: Date(), updated: Date())
            ).name
        default:
            throw ServerError(.invalidInput, "format '\(format)': a stored task is a Lua recipe (lua) or an \(ACRTaskFile.format)")
        }
        if let name, taskName != name {
            throw ServerError(.invalidInput, "\(TaskEvaluator.file(of: name)): the recipe's task is named '\(taskName)', not '\(name)'")
        }
        let existing = try await store.task(named: taskName)
        if existing != nil, name == nil, input.replace != true {
            throw ServerError(.conflict, "a task named '\(taskName)' exists; update it (slipway task update) or remove it first")
        }
        let now = Date()
        let record = TaskRecord(
            name: taskName, format: format, text: input.text, values: values, settings: input.settings, enabled: existing?.enabled ?? true,
            created: existing?.created ?? now, updated: now)
        try await store.save(record)
        return try JSONBody.response(await view(of: record, detailed: false), status: existing == nil ? .created : .ok)
    }

    private func runTask(_ request: Request, name: String) async throws -> Response {
        let input = try await JSONBody.decode(API.RunInput.self, from: request)
        guard try await store.task(named: name) != nil else { throw ServerError(.notFound, "no task named '\(name)'") }
        let outcome = try await dispatcher.submit(RunRequest(id: RunID.make(), task: name, trigger: "manual", values: input.values ?? .object([:])))
        return try JSONBody.response(Self.accepted(outcome), status: .accepted)
    }

    static func accepted(_ outcome: QueueOutcome) -> API.Accepted {
        switch outcome {
        case .queued(let id): API.Accepted(id: id, duplicate: false)
        case .duplicate(let id): API.Accepted(id: id, duplicate: true)
        }
    }

    // MARK: Runs

    private func listRuns(_ request: Request) async throws -> Response {
        let parameters = request.uri.queryParameters
        var query = RunQuery()
        query.task = parameters["task"].map(String.init)
        if let status = parameters["status"] {
            guard let parsed = RunStatus(rawValue: String(status)) else {
                throw ServerError(.invalidInput, "status '\(status)': expected one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = parsed
        }
        if let limit = parameters["limit"] {
            guard let value = Int(limit), (1...1000).contains(value) else { throw ServerError(.invalidInput, "limit '\(limit)': expected 1…1000") }
            query.limit = value
        }
        return try JSONBody.response(try await store.runs(query))
    }

    private func runView(_ id: String) async throws -> Response {
        guard let run = try await store.run(id) else { throw ServerError(.notFound, "no run \(id)") }
        return try JSONBody.response(API.RunView(run: run, steps: try await store.steps(ofRun: id), request: try await store.request(ofRun: id)))
    }

    /// The run's events after `?after=N`: a JSON array, or with `?follow=1` (or `Accept:
    /// text/event-stream`) a Server-Sent Events stream that goes on until the run ends.
    func events(_ request: Request, run id: String) async throws -> Response {
        let parameters = request.uri.queryParameters
        let after = parameters["after"].flatMap { Int(String($0)) } ?? 0
        let follow = parameters["follow"].map { $0 == "1" || $0 == "true" } ?? false
            || request.headers[.accept]?.contains("text/event-stream") == true
        guard let run = try await store.run(id) else { throw ServerError(.notFound, "no run \(id)") }
        guard follow else { return try JSONBody.response(try await store.events(ofRun: id, after: after)) }
        // Follow first, then read what is stored: nothing falls between the two. A run that
        // ended before the follow began is not waited for.
        let following = run.status.isFinished ? nil : hub.follow(id)
        let stored = try await store.events(ofRun: id, after: after)
        let live = try await store.run(id)?.status.isFinished == true ? nil : following
        let store = self.store
        let body = ResponseBody { writer in
            var last = after
            for event in stored {
                try await writer.write(Self.serverSentEvent(event))
                last = event.sequence
            }
            if let live {
                for await event in live where event.sequence > last {
                    try await writer.write(Self.serverSentEvent(event))
                    last = event.sequence
                }
                // The stream ends at run.finished, or when the run closed without events: what
                // the store has beyond what was sent goes out too.
                for event in try await store.events(ofRun: id, after: last) { try await writer.write(Self.serverSentEvent(event)) }
            }
            try await writer.write(ByteBuffer(string: "event: end\ndata: {}\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    private static let sseEncoder = API.encoder()

    static func serverSentEvent(_ event: RunEvent) -> ByteBuffer {
        let data = (try? sseEncoder.encode(event)) ?? Data("{}".utf8)
        return ByteBuffer(string: "id: \(event.sequence)\nevent: \(event.kind.rawValue)\ndata: \(String(decoding: data, as: UTF8.self))\n\n")
    }
}
