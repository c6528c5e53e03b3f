import ArgumentParser
import Foundation
import SlipwayKernel
import SlipwayServer
import SlipwayStore
import NIOHTTP1
import SlipwayACR

/// `slipway task …`: stored tasks on a server.
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Create, list, change and run the tasks a Slipway server runs on their triggers.",
        subcommands: [Create.self, Update.self, List.self, Show.self, Remove.self, Enable.self, Disable.self, RunNow.self])

    /// A recipe file or an acr-task.yaml and its values, sent as a task.
    struct TaskSource: ParsableArguments {
        @Option(
            help: ArgumentHelp("The recipe (Lua) returning task { … }, or an acr-task.yaml.", valueName: "file"),
            completion: .file(extensions: ["lua", "yaml", "yml"]))
        var file: String

        @Option(name: .customLong("set"), help: ArgumentHelp("A value the recipe reads as values.KEY (dotted keys nest).", valueName: "key=value"))
        var assignments: [String] = []

        @Option(name: .customLong("values"), help: ArgumentHelp("Read values from a JSON or YAML file.", valueName: "file"))
        var valuesFiles: [String] = []

        // What an acr-task.yaml cannot say, as `az acr task create` takes it.
        @Option(help: "An acr-task.yaml task's name (a Lua recipe names its task).")
        var name: String?

        @Option(help: ArgumentHelp(
            "An acr-task.yaml task's source: a Git repository (URL#branch[:subdir]) or an absolute folder; its relative build contexts are in it.",
            valueName: "locator"))
        var context: String?

        @Flag(help: "acr-task.yaml: build the context branch's new commits (polling and /hooks/git/NAME).")
        var commitTrigger = false

        @Flag(help: "acr-task.yaml: build pull requests into the context branch (webhooks).")
        var pullRequestTrigger = false

        @Option(help: ArgumentHelp("acr-task.yaml: rebuild when a base image of the last successful run moves.", valueName: "runtime|all"))
        var baseImageTrigger: String?

        @Option(help: ArgumentHelp("acr-task.yaml: run on a 5-field cron schedule, UTC (repeatable).", valueName: "cron"))
        var schedule: [String] = []

        func input(replace: Bool, name existing: String? = nil) throws -> API.TaskInput {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw InputError("\(file): no such recipe file")
            }
            let values = try ValueOptions(assignments: assignments, files: valuesFiles).values()
            guard ACRTaskFile.isTaskFile(file) else {
                let given = [
                    name.map { _ in "--name" }, context.map { _ in "--context" }, commitTrigger ? "--commit-trigger" : nil,
                    pullRequestTrigger ? "--pull-request-trigger" : nil, baseImageTrigger.map { _ in "--base-image-trigger" },
                    schedule.isEmpty ? nil : "--schedule",
                ].compactMap { $0 }
                if !given.isEmpty {
                    throw InputError("\(given.joined(separator: ", ")): \(file) is a Lua recipe; its task { … } gives its name, source and triggers")
                }
                return API.TaskInput(text: text, format: "lua", values: values, replace: replace)
            }
            if let baseImageTrigger, !["runtime", "all"].contains(baseImageTrigger) {
                throw InputError("--base-image-trigger: '\(baseImageTrigger)' is not runtime or all")
            }
            guard let taskName = name ?? existing else { throw InputError("--name: \(file) is an acr-task.yaml, which does not name its task") }
            let settings = ACRTaskSettings(
                context: context, commitTrigger: commitTrigger, pullRequestTrigger: pullRequestTrigger, baseImageTrigger: baseImageTrigger,
                schedules: schedule)
            return API.TaskInput(text: text, format: ACRTaskFile.format, values: values, name: taskName, settings: settings.value, replace: replace)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Store a task (named by its recipe); the server watches its triggers from now on.")
        @OptionGroup var source: TaskSource
        @OptionGroup var server: ServerOptions
        @Flag(help: "Replace a task of the same name.") var replace = false

        func run() async throws {
            try await ClientCommand.run {
                let client = try server.client()
                let task = try await client.send(API.TaskView.self, .POST, "/api/v1/tasks", body: try source.input(replace: replace))
                print("task \(task.name) stored (\(task.triggers.count) trigger(s)\(task.enabled ? "" : ", disabled"))")
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a task's recipe and values.")
        @Argument(help: "The task.") var name: String
        @OptionGroup var source: TaskSource
        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await ClientCommand.run {
                let client = try server.client()
                let task = try await client.send(API.TaskView.self, .PUT, "/api/v1/tasks/\(ServerClient.escape(name))", body: try source.input(replace: true, name: name))
                print("task \(task.name) updated")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the stored tasks.")
        @OptionGroup var server: ServerOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await ClientCommand.run {
                let client = try server.client()
                let data = try await client.request(.GET, "/api/v1/tasks")
                if json { return print(String(decoding: data, as: UTF8.self), terminator: "") }
                let tasks = try client.decode([API.TaskView].self, data)
                let width = max(4, tasks.map(\.name.count).max() ?? 0)
                print("TASK".padding(toLength: width, withPad: " ", startingAt: 0) + "  STATE     TRIGGERS")
                for task in tasks {
                    let state = task.error != nil ? "broken" : task.enabled ? "enabled" : "disabled"
                    let triggers = task.triggers.map(\.kind).joined(separator: ", ")
                    print(task.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + state.padding(toLength: 8, withPad: " ", startingAt: 0)
                        + "  " + (triggers.isEmpty ? "manual only" : triggers))
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a task: its triggers, values and latest trigger decisions.")
        @Argument(help: "The task.") var name: String
        @OptionGroup var server: ServerOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await ClientCommand.run {
                let client = try server.client()
                let data = try await client.request(.GET, "/api/v1/tasks/\(ServerClient.escape(name))")
                if json { return print(String(decoding: data, as: UTF8.self), terminator: "") }
                let task = try client.decode(API.TaskView.self, data)
                print("task \(task.name) (\(task.format), \(task.enabled ? "enabled" : "disabled"), updated \(task.updated.formatted(.iso8601)))")
                if let context = task.settings?["context"] { print("  context \(context)") }
                if let error = task.error { print("  does not evaluate: \(error)") }
                for trigger in task.triggers {
                    let note = trigger.kind == "pull_request" ? " (webhook only)" : ""
                    print("  trigger \(trigger.kind) \(trigger.configuration)\(trigger.filter ? " with filter" : "")\(note)  at \(trigger.location)")
                }
                if let values = task.values, values != .object([:]) { print("  values \(values)") }
                for delivery in task.deliveries ?? [] {
                    print("  \(delivery.received.formatted(.iso8601)) \(delivery.trigger): \(delivery.summary)")
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a task (its runs stay in the history).")
        @Argument(help: "The task.") var name: String
        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await ClientCommand.run {
                _ = try await server.client().request(.DELETE, "/api/v1/tasks/\(ServerClient.escape(name))")
                print("task \(name) removed")
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Watch a task's triggers again.")
        @Argument(help: "The task.") var name: String
        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await ClientCommand.run {
                _ = try await server.client().request(.POST, "/api/v1/tasks/\(ServerClient.escape(name))/enable")
                print("task \(name) enabled")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop watching a task's triggers (manual runs still work).")
        @Argument(help: "The task.") var name: String
        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await ClientCommand.run {
                _ = try await server.client().request(.POST, "/api/v1/tasks/\(ServerClient.escape(name))/disable")
                print("task \(name) disabled")
            }
        }
    }

    struct RunNow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "run", abstract: "Queue a run of a task now.")
        @Argument(help: "The task.") var name: String
        @Option(name: .customLong("set"), help: ArgumentHelp("A value for this run, over the task's (values.KEY).", valueName: "key=value"))
        var assignments: [String] = []
        @Flag(help: "Follow the run's log and exit with its outcome.") var wait = false
        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await ClientCommand.run {
                let client = try server.client()
                let values = try ValueOptions(assignments: assignments, files: []).values()
                let accepted = try await client.send(
                    API.Accepted.self, .POST, "/api/v1/tasks/\(ServerClient.escape(name))/runs", body: API.RunInput(values: values))
                // Unbuffered, so it comes before the followed log's lines.
                FileHandle.standardOutput.write(Data("run \(accepted.id) queued\n".utf8))
                if wait { try await LogsCommand.follow(accepted.id, client: client) }
            }
        }
    }
}

/// What every client command does with errors: the server's message, and the exit code its
/// category says.
enum ClientCommand {
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw ErrorReporting.exit(for: error, verbose: false)
        }
    }
}
