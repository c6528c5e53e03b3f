import ArgumentParser
import Foundation
import SlipwayEngine
import SlipwayKernel
import SlipwayACR
import SlipwayLua
import SlipwayOCI
import DockerfileBuilder
import SlipwayServer
import SlipwayStore

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a recipe's pipeline once.",
        discussion: """
            Evaluates the recipe (a pipeline, or a task's pipeline for a manual run), checks the \
            whole graph, then runs it. Ctrl-C cancels running steps and cleans up; a second \
            Ctrl-C exits at once.
            """)

    @OptionGroup var recipe: RecipeOptions
    /// The store and registries the run's steps use (registry credentials come from the usual
    /// files and helpers: docker's config.json, containers' auth.json).
    @OptionGroup var host: StoreOptions

    @Option(
        name: .customLong("secret"),
        help: ArgumentHelp(
            "Give the run a secret from an environment variable (NAME=ENV_VAR or id=NAME,env=ENV_VAR) or a file (id=NAME,src=FILE); values never go on the command line.",
            valueName: "secret"))
    var secrets: [String] = []

    @Option(help: "Run at most this many steps at once.")
    var concurrency: Int = max(4, ProcessInfo.processInfo.activeProcessorCount)

    @Flag(help: "Keep running independent steps after a failure (only dependents of the failed step are skipped).")
    var keepGoing = false

    @Flag(help: "Print the run report as JSON on stdout.")
    var json = false

    @Option(help: "How the run's events reach stderr: auto (tty on a terminal, else plain), tty (a live view of the running steps), plain (timestamped lines) or json (one event per line; Docs/Events.md).")
    var progress: ProgressMode = .auto

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
    }

    func run() async throws {
        do {
            let registry = try BuiltinPlugins.registry()
            let info = try await recipe.runInfo(id: RunID.make())
            var secretValues = try readSecrets()
            let pipeline: PipelineDefinition
            var messages: [LogLine] = []
            var session: RecipeSession?
            if recipe.isTaskFile {
                let task = try recipe.taskFile(run: info, secrets: secretValues)
                let (all, missing) = task.secrets(merging: secretValues)
                if let id = missing.first {
                    throw InputError("\(recipe.file): secret '\(id)' is declared in secrets but was not given (--secret id=\(id),env=VAR or id=\(id),src=FILE)")
                }
                secretValues = all
                pipeline = task.pipeline
            } else {
                let evaluated = try recipe.session(registry: registry, run: info, printingMessages: false)
                (pipeline, messages) = try await evaluated.pipeline(for: info)
                messages = evaluated.messages + messages
                session = evaluated
            }
            await host.sweepLeftovers()
            // What the steps work with, given once for the whole run.
            var services = HostServices()
            services.contentStore = try host.store()
            services.registryClient = host.client()
            services.sourceDateEpoch = BuildRequest.sourceDateEpoch(in: ProcessInfo.processInfo.environment)
            services.notifier = WebhookNotifier()
            services[BuildRecordsService.self] = StoreBuildRecords(store: try SQLiteStore.inStateDirectory(host.stateDirectory))
            let history = RunHistory.recorder(in: host.stateDirectory)
            let runner = PipelineRunner(
                registry: registry,
                options: RunOptions(
                    maxConcurrency: concurrency, failFast: !keepGoing, secrets: secretValues, hooks: session,
                    observers: [progress.observer(), history], services: services))
            let report = try await SignalCancellation.run { [messages] in try await runner.run(pipeline, info: info, messages: messages) }
            await RunHistory.finish(history)
            await session?.release(run: info.id)
            try printReport(report)
            if recipe.isTaskFile && !json { print(DependencySummary.text(for: report), terminator: "") }
            if report.status != .succeeded { throw ExitCode.failure }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw ErrorReporting.exit(for: error, verbose: recipe.verbose)
        }
    }

    /// `--secret NAME=ENV_VAR`, `--secret id=NAME,env=ENV_VAR` or `--secret id=NAME,src=FILE`:
    /// values come from the environment or a file, never from the command line itself.
    private func readSecrets() throws -> [String: String] {
        var values: [String: String] = [:]
        for secret in secrets {
            let (name, value) = try Self.readSecret(secret, environment: ProcessInfo.processInfo.environment)
            values[name] = value
        }
        return values
    }

    static func readSecret(_ text: String, environment: [String: String]) throws -> (String, String) {
        let usage = "--secret \(text): expected NAME=ENV_VAR, id=NAME,env=ENV_VAR or id=NAME,src=FILE"
        let name: String
        let source: SecretOption.Source
        if text.hasPrefix("id=") {
            let secret: SecretOption
            do {
                secret = try SecretOption(parsing: text)
            } catch let invalid as SecretOption.Invalid {
                throw InputError("\(usage) (\(invalid.reason))")
            }
            // A run is told where each value comes from: an id alone is refused.
            guard let given = secret.source else { throw InputError(usage) }
            (name, source) = (secret.id, given)
        } else {
            let pair = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else { throw InputError(usage) }
            (name, source) = (pair[0], .variable(pair[1]))
        }
        switch source {
        case .variable(let variable):
            guard let value = environment[variable] else {
                throw InputError("--secret \(name): environment variable \(variable) is not set")
            }
            return (name, value)
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path), let value = String(data: data, encoding: .utf8) else {
                throw InputError("--secret \(name): cannot read \(path) as UTF-8 text")
            }
            // A file's last newline is not part of the secret (echo TOKEN > file).
            return (name, value.hasSuffix("\n") ? String(value.dropLast()) : value)
        }
    }

    private func printReport(_ report: RunReport) throws {
        if json {
            print(try JSONOutput.render(report))
            return
        }
        let elapsed = String(format: "%.2fs", report.finished.timeIntervalSince(report.started))
        print("run \(report.runID) \(report.status.rawValue) in \(elapsed)")
        let width = report.steps.map(\.id.rawValue.count).max() ?? 0
        for step in report.steps {
            let duration = zip(step.started, step.finished).map { String(format: "%.2fs", $1.timeIntervalSince($0)) } ?? "-"
            var line = "  \(step.id.rawValue.padding(toLength: width, withPad: " ", startingAt: 0))  "
            line += step.status.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) + "  " + duration
            if step.attempts > 1 { line += "  (\(step.attempts) attempts)" }
            if let failure = step.failure, step.status != .succeeded { line += "  \(failure)" }
            print(line)
        }
    }
}

private func zip(_ a: Date?, _ b: Date?) -> (Date, Date)? {
    guard let a, let b else { return nil }
    return (a, b)
}
