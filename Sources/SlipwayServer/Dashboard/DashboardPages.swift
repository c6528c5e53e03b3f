import Foundation
import SlipwayKernel
import SlipwayStore

/// The dashboard's pages and the fragments its script refreshes, rendered from the store.
struct DashboardPages {
    let store: any SlipwayStore
    let access: DashboardAccess
    /// A task's triggers as the API shows them (the recipe evaluated).
    let taskView: @Sendable (TaskRecord) async -> API.TaskView

    // MARK: Runs

    func runs(task: String?, status: RunStatus?) async throws -> String {
        let options = (["all"] + RunStatus.allCases.map(\.rawValue)).map { value in
            "<option value=\"\(value == "all" ? "" : value)\"\(value == status?.rawValue ? " selected" : "")>\(value)</option>"
        }.joined()
        let tasks = try await store.tasks().map(\.name)
        let taskOptions = ([""] + tasks).map { name in
            "<option value=\"\(HTML.escape(name))\"\(name == task ? " selected" : "")>\(name.isEmpty ? "all tasks" : HTML.escape(name))</option>"
        }.joined()
        return HTML.page("Runs", section: .runs, body: """
            <h1>Runs</h1>
            <form class="filters" method="get" action="/runs"><label>Task <select name="task">\(taskOptions)</select></label>
            <label>Status <select name="status">\(options)</select></label><button type="submit">Filter</button></form>
            <table><thead><tr><th>Run</th><th>Status</th><th>Task</th><th>Trigger</th><th>Queued</th><th>Duration</th></tr></thead>
            <tbody id="runs-rows">\(try await runRows(task: task, status: status))</tbody></table>
            """)
    }

    func runRows(task: String?, status: RunStatus?) async throws -> String {
        var rows = ""
        for run in try await store.runs(RunQuery(task: task, status: status, limit: 100)) {
            let request = try await store.request(ofRun: run.id)
            rows += """
                <tr id="run-\(HTML.escape(run.id))" data-status="\(run.status.rawValue)"><td><a class="mono" href="/runs/\(HTML.component(run.id))">\(HTML.escape(run.id))</a></td>\
                <td><span class="status \(run.status.rawValue)">\(run.status.rawValue)</span></td>\
                <td>\(run.task.map { "<a href=\"/tasks#task-\(HTML.escape($0))\">\(HTML.escape($0))</a>" } ?? HTML.escape(run.pipeline ?? ""))</td>\
                <td>\(Self.trigger(of: run, request: request))</td><td>\(HTML.time(run.queued))</td>\
                <td>\(HTML.duration(from: run.started, to: run.finished))</td></tr>
                """
        }
        return rows.isEmpty ? "<tr><td colspan=\"6\" class=\"muted\">No runs yet.</td></tr>" : rows
    }

    /// What started a run, with what identifies it: a commit's sha, a base's new digest.
    static func trigger(of run: RunRecord, request: RunRequest?) -> String {
        let facts = request?.facts ?? [:]
        let name = run.trigger ?? "cli"
        func short(_ text: String) -> String { HTML.escape(String(text.replacingOccurrences(of: "sha256:", with: "").prefix(12))) }
        switch name {
        case "commit", "pull_request":
            let number = facts["pull_request"].map { " #\(HTML.escape($0))" } ?? ""
            return "\(name)\(number) <span class=\"mono\">\(facts["commit"].map(short) ?? "")</span>"
        case "base_image":
            return "base_image <span class=\"mono\">\(HTML.escape(facts["base_image"] ?? ""))@\(facts["base_digest"].map(short) ?? "")</span>"
        default:
            return HTML.escape(name)
        }
    }

    // MARK: One run

    func run(_ id: String) async throws -> String? {
        guard let run = try await store.run(id) else { return nil }
        let events = try await store.events(ofRun: id, after: 0)
        return HTML.page("Run \(id)", section: .runs, body: """
            <div data-run="\(HTML.escape(id))" data-finished="\(run.status.isFinished)" data-after="\(events.last?.sequence ?? 0)">
            <h1>Run <span class="mono">\(HTML.escape(id))</span></h1>
            <div id="run-summary">\(try await summary(run))</div>
            <h2>Steps</h2><div id="run-graph" class="graph">\(try await graph(run, events: events))</div>
            <div id="run-details">\(try await details(run, events: events))</div></div>
            """)
    }

    func summary(_ run: RunRecord) async throws -> String {
        let request = try await store.request(ofRun: run.id)
        var buttons = ""
        if !run.status.isFinished { buttons += HTML.button("Cancel", action: "/runs/\(HTML.component(run.id))/cancel", csrf: access.csrf, style: "danger") }
        if run.task != nil { buttons += " " + HTML.button("Rerun", action: "/runs/\(HTML.component(run.id))/rerun", csrf: access.csrf) }
        return """
            <div class="card"><span id="run-status" class="status \(run.status.rawValue)">\(run.status.rawValue)</span> \
            task \(run.task.map { "<a href=\"/tasks#task-\(HTML.escape($0))\">\(HTML.escape($0))</a>" } ?? HTML.escape(run.pipeline ?? "")) · \
            trigger \(Self.trigger(of: run, request: request)) · queued \(HTML.time(run.queued)) · \
            duration \(HTML.duration(from: run.started, to: run.finished))\
            \(run.error.map { "<div class=\"error\">\(HTML.escape($0))</div>" } ?? "") <div>\(buttons)</div></div>
            """
    }

    /// The pipeline's graph with each step's state, drawn by Graphviz.
    func graph(_ run: RunRecord, events given: [RunEvent]? = nil) async throws -> String {
        var events = given ?? []
        if given == nil { events = try await store.events(ofRun: run.id, after: 0) }
        let steps = try await store.steps(ofRun: run.id)
        let status = Dictionary(steps.map { ($0.step.rawValue, $0.status.rawValue) }) { first, _ in first }
        let graph = events.first { $0.kind == .runQueued }?.graph ?? Dictionary(steps.map { ($0.step.rawValue, [String]()) }) { first, _ in first }
        guard !graph.isEmpty else { return "<p class=\"muted\">No steps.</p>" }
        let colors = ["succeeded": "#1a7f37", "failed": "#c62828", "running": "#1f6feb", "queued": "#8a6d00", "canceled": "#6e7781", "interrupted": "#c62828"]
        var dot = "digraph steps { rankdir=LR; bgcolor=\"transparent\"; node [shape=box, style=\"rounded,filled\", fontname=\"DejaVu Sans\", fontsize=11, fontcolor=white];\n"
        for step in graph.keys.sorted() {
            let state = status[step] ?? "pending"
            // Two lines: the id, then the state (DOT's own \n escape).
            let label = String(Graphviz.quote(step).dropLast()) + "\\n" + state + "\""
            dot += "  \(Graphviz.quote(step)) [label=\(label), fillcolor=\(Graphviz.quote(colors[state] ?? "#8b949e")), "
                + "URL=\(Graphviz.quote("#step-\(step)")), id=\(Graphviz.quote("node-\(step)")), class=\(Graphviz.quote(state))];\n"
        }
        for (step, dependencies) in graph.sorted(by: { $0.key < $1.key }) {
            for dependency in dependencies.sorted() { dot += "  \(Graphviz.quote(dependency)) -> \(Graphviz.quote(step));\n" }
        }
        return try await Graphviz.svg(dot + "}\n")
    }

    func details(_ run: RunRecord, events given: [RunEvent]? = nil) async throws -> String {
        var events = given ?? []
        if given == nil { events = try await store.events(ofRun: run.id, after: 0) }
        let steps = try await store.steps(ofRun: run.id)
        var logs: [String: [String]] = [:]
        for event in events where event.kind == .log {
            logs[event.step?.rawValue ?? "run", default: []].append(event.text ?? "")
        }
        var html = ""
        if let decision = logs["run"]?.first(where: { $0.hasPrefix("patch decision: ") }) {
            html += "<h2>Patch decision</h2><div class=\"card\" id=\"patch-decision\">\(HTML.escape(String(decision.dropFirst("patch decision: ".count))))</div>"
        }
        html += "<h2>Run log</h2><pre class=\"log\" id=\"log-run\">\(HTML.escape((logs["run"] ?? []).joined(separator: "\n")))</pre>"
        // Every step of the graph, the ones that have not started yet too (their logs fill in live).
        let recorded = Set(steps.map(\.step.rawValue))
        let pending = (events.first { $0.kind == .runQueued }?.graph ?? [:]).keys.filter { !recorded.contains($0) }.sorted()
        for (name, step) in steps.map({ ($0.step.rawValue, Optional($0)) }) + pending.map({ ($0, nil as StepRecord?) }) {
            let status = step?.status.rawValue ?? "pending"
            html += """
                <section id="step-\(HTML.escape(name))"><h2>\(HTML.escape(name)) <span class="muted">\(HTML.escape(step?.kind ?? ""))</span> \
                <span class="status \(status)">\(status)</span> \
                <span class="muted">\(HTML.duration(from: step?.started, to: step?.finished))</span></h2>
                \(step?.error.map { "<div class=\"error\">\(HTML.escape($0))</div>" } ?? "")\(Self.report(step?.outputs?["report"]))
                <pre class="log" id="log-\(HTML.escape(name))">\(HTML.escape((logs[name] ?? []).joined(separator: "\n")))</pre></section>
                """
        }
        return html
    }

    /// A build report: the image, its runtime and build-time bases, each layer's origin.
    static func report(_ value: ConfigValue?) -> String {
        guard let value, let report = try? ConfigValueDecoder().decode(BuildReport.self, from: value) else { return "" }
        var html = "<div class=\"card report\"><div>image <span class=\"mono\">\(HTML.escape(report.digest))</span></div>"
        if let base = report.runtimeBase {
            html += "<div>runtime base <span class=\"mono\">\(HTML.escape(base.reference))@\(HTML.escape(base.digest))</span></div>"
        }
        for base in report.buildTimeBases {
            html += "<div>build-time base <span class=\"mono\">\(HTML.escape(base.reference))@\(HTML.escape(base.digest))</span></div>"
        }
        html += "<table><thead><tr><th>Layer</th><th>Origin</th></tr></thead><tbody>"
        for layer in report.layers {
            html += "<tr><td class=\"mono\">\(HTML.escape(layer.digest))</td><td>\(layer.kind.rawValue)</td></tr>"
        }
        return html + "</tbody></table></div>"
    }

    // MARK: Tasks

    func tasks() async throws -> String {
        HTML.page("Tasks", section: .tasks, body: """
            <h1>Tasks</h1><table><thead><tr><th>Task</th><th>Source</th><th>Triggers</th><th>Last event</th><th>State</th><th></th></tr></thead>
            <tbody id="tasks-rows">\(try await taskRows())</tbody></table>
            """)
    }

    func taskRows() async throws -> String {
        var rows = ""
        for record in try await store.tasks() {
            let view = await taskView(record)
            let last = try await store.deliveries(task: record.name, limit: 1).first
            var triggers = ""
            for (index, trigger) in view.triggers.enumerated() {
                let cursor = try await store.cursor(trigger: trigger.kind, key: "\(record.name)/\(index)")
                triggers += "<div><b>\(HTML.escape(trigger.kind))</b> <span class=\"mono\">\(HTML.escape("\(trigger.configuration)"))</span>"
                    + (cursor.map { " <span class=\"muted\">cursor <span class=\"mono\">\(HTML.escape(String($0.prefix(80))))</span></span>" } ?? "") + "</div>"
            }
            let source = record.settings?["context"] ?? record.values["context"] ?? record.values["repo"]
            let toggle = record.enabled
                ? HTML.button("Disable", action: "/tasks/\(HTML.component(record.name))/disable", csrf: access.csrf)
                : HTML.button("Enable", action: "/tasks/\(HTML.component(record.name))/enable", csrf: access.csrf)
            rows += """
                <tr id="task-\(HTML.escape(record.name))"><td><b>\(HTML.escape(record.name))</b><div class="muted">\(HTML.escape(record.format))</div></td>\
                <td class="mono">\(source.map { if case .string(let text) = $0 { HTML.escape(text) } else { HTML.escape("\($0)") } } ?? "")</td>\
                <td>\(triggers.isEmpty ? "<span class=\"muted\">none (run by hand)</span>" : triggers)\(view.error.map { "<div class=\"error\">\(HTML.escape($0))</div>" } ?? "")</td>\
                <td>\(last.map { "\(HTML.time($0.received)) \(HTML.escape($0.trigger)): \(HTML.escape($0.summary))" } ?? "<span class=\"muted\">none yet</span>")</td>\
                <td>\(record.enabled ? "enabled" : "<b>disabled</b>")</td>\
                <td>\(toggle) \(HTML.button("Run now", action: "/tasks/\(HTML.component(record.name))/run", csrf: access.csrf))\
                 <a href="/runs?task=\(HTML.component(record.name))">runs</a></td></tr>
                """
        }
        return rows.isEmpty ? "<tr><td colspan=\"6\" class=\"muted\">No tasks: slipway task create --file RECIPE.lua</td></tr>" : rows
    }

    // MARK: Dependencies

    /// Bases → images → their dependents, each edge labelled with when it was last recorded;
    /// an image made by a task links to the task.
    func dependencies() async throws -> String {
        HTML.page("Dependencies", section: .deps, body: "<h1>Dependencies</h1><div id=\"deps-graph\" class=\"graph\">\(try await dependencyGraph())</div>")
    }

    func dependencyGraph() async throws -> String {
        let images = try await store.latestImages().values.sorted { $0.task < $1.task }
        var dot = "digraph deps { rankdir=LR; bgcolor=\"transparent\"; node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef1f4\", fontname=\"DejaVu Sans\", fontsize=11]; edge [fontname=\"DejaVu Sans\", fontsize=9, fontcolor=\"#5b6675\"];\n"
        var nodes = Set<String>()
        func node(_ reference: String, task: String?) {
            guard nodes.insert(reference).inserted || task != nil else { return }
            var attributes = "id=\(Graphviz.quote("image-\(reference)"))"
            if let task { attributes += ", URL=\(Graphviz.quote("/tasks#task-\(task)")), fillcolor=\"#dbeafe\", tooltip=\(Graphviz.quote("task \(task)"))" }
            dot += "  \(Graphviz.quote(reference)) [\(attributes)];\n"
        }
        for image in images {
            let reference = image.reference ?? "\(image.task) (untagged)"
            node(reference, task: image.task)
            for (base, kind) in (image.runtimeBase.map { [($0, "runtime")] } ?? []) + image.buildTimeBases.map({ ($0, "build") }) {
                node(base.reference, task: nil)
                let label = "\(kind), \(image.recorded.formatted(.iso8601))"
                dot += "  \(Graphviz.quote(base.reference)) -> \(Graphviz.quote(reference)) [label=\(Graphviz.quote(label))\(kind == "build" ? ", style=dashed" : "")];\n"
            }
        }
        guard !images.isEmpty else { return "<p class=\"muted\">No images recorded yet: a task's first successful build records what it was built on.</p>" }
        return try await Graphviz.svg(dot + "}\n")
    }
}
