import ArgumentParser
import Foundation
import SlipwayKernel
import SlipwayServer
import NIOHTTP1
import SlipwayStore

/// `slipway runs`: a server's run history, newest first.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List a Slipway server's runs, newest first.")
    @Option(help: "Only this task's runs.") var task: String?
    @Option(help: "Only runs with this status (queued, running, succeeded, failed, canceled, timed_out, interrupted).") var status: String?
    @Option(help: "At most this many.") var limit = 50
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await ClientCommand.run {
            let client = try server.client()
            var query = ["limit=\(limit)"]
            if let task { query.append("task=\(ServerClient.escape(task))") }
            if let status { query.append("status=\(ServerClient.escape(status))") }
            let data = try await client.request(.GET, "/api/v1/runs?" + query.joined(separator: "&"))
            if json { return print(String(decoding: data, as: UTF8.self), terminator: "") }
            let runs = try client.decode([RunRecord].self, data)
            print("RUN                         TASK                  TRIGGER       STATUS       QUEUED                    DURATION")
            for run in runs {
                let duration = zip(run.started, run.finished).map { String(format: "%.2fs", $1.timeIntervalSince($0)) } ?? "-"
                print([
                    run.id.padding(toLength: 26, withPad: " ", startingAt: 0), (run.task ?? run.pipeline ?? "-").padding(toLength: 20, withPad: " ", startingAt: 0),
                    (run.trigger ?? "cli").padding(toLength: 12, withPad: " ", startingAt: 0), run.status.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0),
                    run.queued.formatted(.iso8601).padding(toLength: 24, withPad: " ", startingAt: 0), duration,
                ].joined(separator: "  "))
            }
        }
    }
}

/// `slipway logs RUN [-f]`: a run's log, as `--progress plain` prints it.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a server run's log; -f follows it until the run ends.")
    @Argument(help: "The run id.") var run: String
    @Flag(name: .shortAndLong, help: "Follow the run until it ends, and exit with its outcome.") var follow = false
    @Flag(help: "Print the events as JSON lines (Docs/Events.md).") var json = false
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await ClientCommand.run {
            let client = try server.client()
            if follow { return try await Self.follow(run, client: client, json: json) }
            let data = try await client.request(.GET, "/api/v1/runs/\(ServerClient.escape(run))/events")
            let events = try client.decode([RunEvent].self, data)
            for event in events { Self.print(event, json: json) }
        }
    }

    /// Prints the run's events as they come; throws a failure exit unless it succeeded.
    static func follow(_ run: String, client: ServerClient, json: Bool = false) async throws {
        var outcome: RunStatus?
        try await client.follow(run: run, after: 0) { event in
            print(event, json: json)
            if event.kind == .runFinished { outcome = event.status }
        }
        if outcome == nil {
            // Closed without a run.finished event: canceled while queued, or it could not start.
            outcome = try await client.get(API.RunView.self, "/api/v1/runs/\(ServerClient.escape(run))").run.status
        }
        if outcome != .succeeded { throw ExitCode.failure }
    }

    static func print(_ event: RunEvent, json: Bool) {
        if json {
            if let data = try? API.encoder().encode(event) { FileHandle.standardOutput.write(data + Data("\n".utf8)) }
        } else if let line = PlainEventRenderer().render(event) {
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }
}

/// `slipway cancel RUN`.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a server's queued or running run.")
    @Argument(help: "The run id.") var run: String
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await ClientCommand.run {
            _ = try await server.client().request(.POST, "/api/v1/runs/\(ServerClient.escape(run))/cancel")
            print("run \(run) canceled")
        }
    }
}

/// `slipway deps [TASK] [--dot]`: the image dependency graph the base-image triggers follow.
struct DepsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deps", abstract: "Show the image dependency graph: each task's latest image and the bases it was built on.")
    @Argument(help: "Only this task and what it is built on.") var task: String?
    @Flag(help: "Print Graphviz dot (slipway deps --dot | dot -Tsvg > deps.svg).") var dot = false
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await ClientCommand.run {
            let client = try server.client()
            let data = try await client.request(.GET, "/api/v1/deps")
            if json { return print(String(decoding: data, as: UTF8.self), terminator: "") }
            let images = try client.decode(API.Dependencies.self, data).images.filter { task == nil || $0.task == task }
            if task != nil, images.isEmpty { throw ServerError(.notFound, "task '\(task!)' has no recorded image yet") }
            print(dot ? DependencyGraph.dot(images) : DependencyGraph.text(images), terminator: "")
        }
    }
}

/// The dependency graph as text and as Graphviz dot.
enum DependencyGraph {
    static func text(_ images: [ImageRecord]) -> String {
        var out = ""
        for image in images {
            out += "\(image.task): \(image.reference ?? "(untagged)")@\(image.digest) [\(image.platform)]\n"
            if let base = image.runtimeBase { out += "  runtime base  \(base.reference)@\(base.digest)\n" }
            for base in image.buildTimeBases { out += "  build base    \(base.reference)@\(base.digest)\n" }
        }
        return out
    }

    static func dot(_ images: [ImageRecord]) -> String {
        func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var lines = ["digraph slipway {", "  rankdir=LR;", "  node [shape=box, fontname=\"sans-serif\"];"]
        for image in images {
            let node = quoted(image.reference ?? "\(image.task)@\(image.digest.prefix(19))")
            lines.append("  \(node) [label=\(quoted("\(image.reference ?? "(untagged)")\ntask \(image.task)"))];")
            if let base = image.runtimeBase { lines.append("  \(quoted(base.reference)) -> \(node);") }
            for base in image.buildTimeBases { lines.append("  \(quoted(base.reference)) -> \(node) [style=dashed];") }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

private func zip(_ a: Date?, _ b: Date?) -> (Date, Date)? {
    guard let a, let b else { return nil }
    return (a, b)
}
