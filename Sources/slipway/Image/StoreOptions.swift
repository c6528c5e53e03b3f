import ArgumentParser
import Foundation
import Glibc
import SlipwayOCI
import SlipwayRuntime

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

    /// Removes what a Slipway that did not exit cleanly (`kill -9`, a crash) left behind: its
    /// containers (runc state, root mounts, bundles) and its run networks (namespaces, bridges,
    /// NAT rules). What live Slipway processes own is left alone. Only root makes containers.
    func sweepLeftovers() async {
        guard geteuid() == 0 else { return }
        let containers = await ContainerRuntime(bundles: StateDirectory(stateDirectory).run).sweep()
        let networks = await RunNetwork.sweep()
        guard !containers.isEmpty || !networks.isEmpty else { return }
        var parts: [String] = []
        if !containers.isEmpty { parts.append("\(containers.count) container(s)") }
        if !networks.isEmpty { parts.append("run network(s) \(networks.joined(separator: ", "))") }
        FileHandle.standardError.write(Data("slipway: removed \(parts.joined(separator: " and ")) left by a Slipway that did not exit cleanly\n".utf8))
    }
}
