import ArgumentParser
import Foundation
import Logging
import SlipwayKernel
import SlipwayServer
import SlipwayOCI
import SlipwayStore
import DockerfileBuilder

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run stored tasks on their triggers, with an HTTP API and webhook receivers.",
        discussion: """
            Watches every enabled task's triggers (commits, pull requests and pushes by webhook, \
            base images by registry notification and polling, schedules), runs what they start, \
            and serves the API the task, runs, logs, cancel and deps commands use. State lives in \
            the state directory's store, so a restart loses nothing: queued runs run, and runs a \
            stopped server was running are marked interrupted and retried once. SIGTERM or \
            Ctrl-C cancels running runs, records them, and exits.
            """)

    @OptionGroup var host: StoreOptions

    @Option(help: ArgumentHelp("Address to listen on; anything but loopback needs an API token.", valueName: "host:port"))
    var listen = "127.0.0.1:\(Server.defaultPort)"

    @Option(help: ArgumentHelp("Read the API token from this file (else $SLIPWAY_API_TOKEN); required off loopback.", valueName: "file"))
    var apiTokenFile: String?

    @Option(help: ArgumentHelp("Read the Git webhook secret (HMAC key for GitHub and Gitea, token for GitLab) from this file (else $SLIPWAY_WEBHOOK_SECRET); without one, /hooks/git is off.", valueName: "file"))
    var webhookSecretFile: String?

    @Option(help: ArgumentHelp("Read the token registry notifications must carry from this file (else $SLIPWAY_REGISTRY_HOOK_TOKEN); optional, as notifications are only hints.", valueName: "file"))
    var registryHookTokenFile: String?

    @Option(help: ArgumentHelp("The registry runs push to: run.registry in recipes.", valueName: "host[:port]"))
    var registry: String?

    @Option(name: .customLong("lib"), help: ArgumentHelp("Add a require root for stored recipes.", valueName: "dir"))
    var libraries: [String] = []

    @Option(
        name: .customLong("secret"),
        help: ArgumentHelp("Give every run a secret (NAME=ENV_VAR, id=NAME,env=ENV_VAR or id=NAME,src=FILE); steps see only those they declare.", valueName: "secret"))
    var secrets: [String] = []

    @Option(help: "How often commit triggers poll their remotes (e.g. 30s, 5m).")
    var pollInterval = "60s"

    @Option(help: "How often base images are polled; registry notifications and Slipway's own pushes are acted on at once.")
    var basePollInterval = "5m"

    @Option(help: "Hints about one base within this window are checked once.")
    var debounce = "200ms"

    @Option(help: "Runs at once.")
    var concurrency = 2

    @Flag(name: .shortAndLong, help: "Log each trigger check and run at debug level.")
    var verbose = false

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        for (name, text) in [("--poll-interval", pollInterval), ("--base-poll-interval", basePollInterval), ("--debounce", debounce)] {
            guard DurationText.parse(text) != nil else { throw ValidationError("\(name) \(text): not a duration (e.g. 500ms, 30s, 5m)") }
        }
        guard Self.address(listen) != nil else { throw ValidationError("--listen \(listen): expected host:port") }
    }

    static func address(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    func run() async throws {
        do {
            let environment = ProcessInfo.processInfo.environment
            let (bindHost, port) = Self.address(listen)!
            var secretValues: [String: String] = [:]
            for secret in secrets {
                let (name, value) = try RunCommand.readSecret(secret, environment: environment)
                secretValues[name] = value
            }
            var logger = Logger(label: "slipway.serve") { _ in StreamLogHandler.standardError(label: "slipway") }
            logger.logLevel = verbose ? .debug : .info
            await host.sweepLeftovers()
            let store = try SQLiteStore.inStateDirectory(host.stateDirectory)
            var services = HostServices()
            services.contentStore = try host.store()
            services.registryClient = host.client()
            services.sourceDateEpoch = BuildRequest.sourceDateEpoch(in: environment)
            // A server's builds resolve each base against its registry: a base that moved is
            // what base-image triggers are for.
            services.basePolicy = .alwaysResolve
            services.notifier = WebhookNotifier()
            services[BuildRecordsService.self] = StoreBuildRecords(store: store)
            let registry = self.registry
            let configuration = Server.Configuration(
                host: bindHost, port: port,
                apiToken: try Self.secret(file: apiTokenFile, variable: "SLIPWAY_API_TOKEN", what: "--api-token-file"),
                webhookSecret: try Self.secret(file: webhookSecretFile, variable: "SLIPWAY_WEBHOOK_SECRET", what: "--webhook-secret-file"),
                registryHookToken: try Self.secret(file: registryHookTokenFile, variable: "SLIPWAY_REGISTRY_HOOK_TOKEN", what: "--registry-hook-token-file"),
                dispatcher: RunDispatcher.Configuration(
                    concurrency: concurrency, services: services, secrets: secretValues,
                    facts: { RunVariables.facts(registry: registry) }),
                triggers: TriggerSupervisor.Configuration(
                    commitInterval: DurationText.parse(pollInterval)!, baseInterval: DurationText.parse(basePollInterval)!,
                    debounce: DurationText.parse(debounce)!))
            let server = Server(
                store: store, evaluator: TaskEvaluator(registry: try BuiltinPlugins.registry(), libraryRoots: libraries), registryClient: host.client(),
                configuration: configuration, logger: logger)
            try await server.run { address in
                // The one line scripts wait for.
                FileHandle.standardError.write(Data("slipway serve: listening on http://\(address) (state \(host.stateDirectory.path))\n".utf8))
            }
        } catch {
            throw ErrorReporting.exit(for: error, verbose: verbose)
        }
    }

    /// A secret from a file (last newline dropped) or an environment variable; nil when neither.
    static func secret(file: String?, variable: String, what: String) throws -> String? {
        if let file {
            guard let data = FileManager.default.contents(atPath: file), var text = String(data: data, encoding: .utf8) else {
                throw InputError("\(what) \(file): cannot read it as UTF-8 text")
            }
            if text.hasSuffix("\n") { text.removeLast() }
            guard !text.isEmpty else { throw InputError("\(what) \(file): the file is empty") }
            return text
        }
        return ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
    }
}
