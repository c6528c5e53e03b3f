import Foundation
import Hummingbird
import NIOCore
import SlipwayKernel
import SlipwayStore

/// The web dashboard on serve's own listener: Runs, Tasks and Dependencies, rendered on the
/// server (readable without JavaScript), kept live by a small script of our own. State changes
/// (cancel, rerun, enable, disable, run now) are POSTed forms with the CSRF token.
struct Dashboard {
    let api: ServerAPI
    let access: DashboardAccess

    var pages: DashboardPages {
        DashboardPages(store: api.store, access: access) { [api] record in await api.view(of: record, detailed: false) }
    }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in Response.redirect(to: "/runs", type: .found) }
        router.get("static/style.css") { _, _ in Self.asset(DashboardAssets.style, type: "text/css; charset=utf-8") }
        router.get("static/app.js") { _, _ in Self.asset(DashboardAssets.script, type: "text/javascript; charset=utf-8") }
        router.get("login") { _, _ in Self.html(Self.loginPage(error: nil)) }
        router.post("login") { request, _ in try await login(request) }

        router.get("runs") { request, _ in
            try await page(request) {
                let parameters = request.uri.queryParameters
                let task = parameters["task"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
                let status = parameters["status"].flatMap { RunStatus(rawValue: String($0)) }
                if parameters["fragment"] == "rows" { return try await pages.runRows(task: task, status: status) }
                return try await pages.runs(task: task, status: status)
            }
        }
        router.get("runs/:id") { request, context in
            try await page(request) {
                let id = try context.parameters.require("id")
                guard let run = try await api.store.run(id) else { throw HTTPError(.notFound, message: "no run \(id)") }
                switch request.uri.queryParameters["fragment"] {
                case "summary": return try await pages.summary(run)
                case "graph": return try await pages.graph(run)
                case "details": return try await pages.details(run)
                default: return try await pages.run(id) ?? ""
                }
            }
        }
        router.get("runs/:id/events") { request, context in
            guard access.isSignedIn(request) else { return Response(status: .unauthorized) }
            return try await api.events(request, run: try context.parameters.require("id"))
        }
        router.get("tasks") { request, _ in
            try await page(request) { request.uri.queryParameters["fragment"] == "rows" ? try await pages.taskRows() : try await pages.tasks() }
        }
        router.get("deps") { request, _ in
            try await page(request) { request.uri.queryParameters["fragment"] == "graph" ? try await pages.dependencyGraph() : try await pages.dependencies() }
        }

        router.post("runs/:id/cancel") { request, context in
            try await change(request) {
                let id = try context.parameters.require("id")
                _ = try await api.dispatcher.cancel(id)
                return "/runs/\(HTML.component(id))"
            }
        }
        router.post("runs/:id/rerun") { request, context in
            try await change(request) {
                let id = try context.parameters.require("id")
                guard let run = try await api.store.run(id), let task = run.task else { throw HTTPError(.notFound, message: "no task run \(id)") }
                // The same inputs: the values and the trigger's facts (a commit's run builds that commit again).
                let original = try await api.store.request(ofRun: id)
                let outcome = try await api.dispatcher.submit(RunRequest(
                    id: RunID.make(), task: task, trigger: "manual", facts: original?.facts ?? [:], values: original?.values ?? .object([:])))
                return "/runs/\(HTML.component(ServerAPI.accepted(outcome).id))"
            }
        }
        for verb in ["enable", "disable", "run"] {
            router.post("tasks/:name/\(verb)") { request, context in
                try await change(request) {
                    let name = try context.parameters.require("name")
                    guard var task = try await api.store.task(named: name) else { throw HTTPError(.notFound, message: "no task named '\(name)'") }
                    if verb == "run" {
                        let outcome = try await api.dispatcher.submit(RunRequest(id: RunID.make(), task: name, trigger: "manual", values: .object([:])))
                        return "/runs/\(HTML.component(ServerAPI.accepted(outcome).id))"
                    }
                    task.enabled = verb == "enable"
                    task.updated = Date()
                    try await api.store.save(task)
                    return "/tasks#task-\(HTML.component(name))"
                }
            }
        }
    }

    // MARK: Access

    /// A page (or fragment) for a signed-in browser; others go to the login form.
    private func page(_ request: Request, _ render: () async throws -> String) async throws -> Response {
        guard access.isSignedIn(request) else { return Response.redirect(to: "/login", type: .found) }
        do {
            return Self.html(try await render())
        } catch let error as HTTPError {
            return Self.errorPage(error)
        }
    }

    /// A state-changing form: signed in, with the CSRF token; then back to a page.
    private func change(_ request: Request, _ perform: () async throws -> String) async throws -> Response {
        guard access.isSignedIn(request) else { return Response(status: .unauthorized) }
        let form = try await Self.form(request)
        guard access.acceptsCSRF(form["csrf"]) else {
            return Self.html(HTML.page("Refused", section: nil, body: "<h1>Refused</h1><p>The form is missing its CSRF token, or it is not this server's.</p>"), status: .forbidden)
        }
        do {
            return Response.redirect(to: try await perform(), type: .found)
        } catch let error as HTTPError {
            return Self.errorPage(error)
        }
    }

    private func login(_ request: Request) async throws -> Response {
        let form = try await Self.form(request)
        guard access.needsLogin, let session = access.session else { return Response.redirect(to: "/runs", type: .found) }
        guard let token = form["token"], access.accepts(token: token) else { return Self.html(Self.loginPage(error: "That is not the API token."), status: .unauthorized) }
        var response = Response.redirect(to: "/runs", type: .found)
        response.headers[.init("Set-Cookie")!] = "\(DashboardAccess.cookie)=\(session); Path=/; HttpOnly; SameSite=Strict"
        return response
    }

    private static func loginPage(error: String?) -> String {
        HTML.page("Sign in", section: nil, body: """
            <h1>Sign in</h1><form method="post" action="/login" class="card"><p>This server needs its API token (serve's --api-token-file).</p>
            \(error.map { "<p class=\"error\">\(HTML.escape($0))</p>" } ?? "")<input type="password" name="token" autocomplete="current-password" required>
            <button type="submit">Sign in</button></form>
            """)
    }

    // MARK: Responses

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .init("X-Frame-Options")!: "DENY",
                      .init("Content-Security-Policy")!: "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func errorPage(_ error: HTTPError) -> Response {
        html(HTML.page("Error", section: nil, body: "<h1>\(error.status.code)</h1><p>\(HTML.escape(error.body ?? ""))</p>"), status: error.status)
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// An `application/x-www-form-urlencoded` body (at most 64 KiB).
    static func form(_ request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: 64 << 10)
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if let key = parts.first { fields[key] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }
}
