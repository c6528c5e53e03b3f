import Foundation
import Hummingbird
public import Logging
import NIOCore
public import SlipwayOCI
public import SlipwayStore
import ServiceLifecycle
import SlipwayKernel
import UnixSignals

/// `slipway serve`: the trigger supervisor, the run agent and the HTTP API in one process.
///
/// SIGTERM or SIGINT shuts it down gracefully: triggers stop, running runs are canceled and
/// record that they were, followers' streams end, then the listener closes. Whatever was queued
/// stays queued in the store for the next start.
public struct Server: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var apiToken: String?
        public var webhookSecret: String?
        public var registryHookToken: String?
        public var dispatcher: RunDispatcher.Configuration
        public var triggers: TriggerSupervisor.Configuration

        public init(
            host: String = "127.0.0.1", port: Int = Server.defaultPort, apiToken: String? = nil, webhookSecret: String? = nil,
            registryHookToken: String? = nil, dispatcher: RunDispatcher.Configuration = .init(), triggers: TriggerSupervisor.Configuration = .init()
        ) {
            self.host = host
            self.port = port
            self.apiToken = apiToken
            self.webhookSecret = webhookSecret
            self.registryHookToken = registryHookToken
            self.dispatcher = dispatcher
            self.triggers = triggers
        }
    }

    /// Where `serve` listens, and the CLI looks, unless told otherwise.
    public static let defaultPort = 7781

    let store: any SlipwayStore
    let evaluator: TaskEvaluator
    let registryClient: RegistryClient
    let configuration: Configuration
    let logger: Logger

    public init(store: any SlipwayStore, evaluator: TaskEvaluator, registryClient: RegistryClient, configuration: Configuration, logger: Logger) {
        self.store = store
        self.evaluator = evaluator
        self.registryClient = registryClient
        self.configuration = configuration
        self.logger = logger
    }

    /// Whether `host` is a loopback address (no API token needed there).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Serves until SIGTERM or SIGINT.
    /// - Parameter listening: called with the bound address once the listener is up.
    public func run(listening: @escaping @Sendable (String) async -> Void = { _ in }) async throws {
        guard configuration.apiToken != nil || Self.isLoopback(configuration.host) else {
            throw ServerError(.invalidInput, "--listen \(configuration.host): any address other than loopback needs an API token (--api-token-file or SLIPWAY_API_TOKEN)")
        }
        let hub = RunEventHub()
        let dispatcher = RunDispatcher(store: store, evaluator: evaluator, hub: hub, configuration: configuration.dispatcher, logger: logger)
        let supervisor = TriggerSupervisor(
            store: store, evaluator: evaluator, dispatcher: dispatcher, registryClient: registryClient, configuration: configuration.triggers,
            logger: logger)
        await dispatcher.onFinished { _, report in await supervisor.runFinished(report) }
        let api = ServerAPI(
            store: store, evaluator: evaluator, dispatcher: dispatcher, supervisor: supervisor, hub: hub, apiToken: configuration.apiToken,
            webhookSecret: configuration.webhookSecret, registryHookToken: configuration.registryHookToken,
            dashboardAccess: DashboardAccess(apiToken: configuration.apiToken))
        var quiet = logger
        quiet.logLevel = .warning
        let app = Application(
            router: api.router(),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "slipway"),
            onServerRunning: { channel in
                let address = channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
                await listening(address)
            },
            logger: quiet)
        let agent = Agent(dispatcher: dispatcher, supervisor: supervisor, hub: hub, logger: logger)
        // Shut down in reverse order: the agent (runs canceled and recorded) before the listener.
        let group = ServiceGroup(configuration: .init(services: [app, agent], gracefulShutdownSignals: [.sigterm, .sigint], logger: quiet))
        try await group.run()
    }

    /// The dispatcher and the supervisor as one service of the group.
    struct Agent: Service {
        let dispatcher: RunDispatcher
        let supervisor: TriggerSupervisor
        let hub: RunEventHub
        let logger: Logger

        func run() async throws {
            let recovered = try await dispatcher.recover()
            if !recovered.isEmpty { logger.warning("\(recovered.count) run(s) were interrupted by the last server stop") }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await dispatcher.run() }
                group.addTask { await supervisor.run() }
                try? await gracefulShutdown()
                logger.info("shutting down: canceling running runs")
                group.cancelAll()
                await dispatcher.shutdown()
                hub.closeAll()
            }
        }
    }
}
