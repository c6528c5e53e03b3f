import ArgumentParser
import Foundation
import SlipwayOCI

/// Where Slipway keeps its state and which registries may be reached over plain HTTP: every
/// command that touches images or runs steps that do.
struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Slipway's state directory (default $SLIPWAY_STATE_DIR, else ~/.local/share/slipway).", valueName: "dir"))
    var stateDir: String?

    @Option(help: ArgumentHelp("Allow plain HTTP to this registry (loopback registries always may).", valueName: "host:port"))
    var insecureRegistry: [String] = []

    var stateDirectory: URL {
        stateDir.map { URL(fileURLWithPath: $0) } ?? ContentStore.defaultStateDirectory()
    }

    func store() throws -> ContentStore { try ContentStore.inStateDirectory(stateDirectory) }

    /// A client with `explicit` credentials, else those of the usual files and helpers.
    func client(explicit: [String: Credential] = [:], progress: TransferProgressView? = nil) -> RegistryClient {
        var configuration = RegistryClient.Configuration(insecureRegistries: Set(insecureRegistry))
        if let progress {
            configuration.progress = { @Sendable event in progress.update(event) }
        }
        return RegistryClient(credentials: CredentialStore(explicit: explicit), configuration: configuration)
    }
}
