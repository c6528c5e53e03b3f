import ArgumentParser
import Foundation
import SlipwayOCI

/// Options shared by the image commands: where the local store is and how to reach registries.
struct RegistryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Slipway's state directory (default $SLIPWAY_STATE_DIR, else ~/.local/share/slipway).", valueName: "dir"))
    var stateDir: String?

    @Option(help: ArgumentHelp("Allow plain HTTP to this registry (loopback registries always may).", valueName: "host:port"))
    var insecureRegistry: [String] = []

    @Option(help: "User name for the registries of this command (with --password-stdin).")
    var username: String?

    @Flag(help: "Read the password (or token) for --username from standard input.")
    var passwordStdin = false

    func validate() throws {
        if passwordStdin != (username != nil) { throw ValidationError("--username and --password-stdin go together") }
    }

    var stateDirectory: URL {
        stateDir.map { URL(fileURLWithPath: $0) } ?? ContentStore.defaultStateDirectory()
    }

    func store() throws -> ContentStore { try ContentStore.inStateDirectory(stateDirectory) }

    /// A client with credentials for `registries` from the flags, else from the usual files.
    func client(for registries: [String], progress: TransferProgressView? = nil) throws -> RegistryClient {
        var explicit: [String: Credential] = [:]
        if let username, passwordStdin {
            let password = (readLine(strippingNewline: true) ?? "")
            guard !password.isEmpty else { throw InputError("--password-stdin: no password on standard input") }
            for registry in registries { explicit[registry] = Credential(username: username, password: password) }
        }
        var configuration = RegistryClient.Configuration(insecureRegistries: Set(insecureRegistry))
        if let progress {
            configuration.progress = { @Sendable event in progress.update(event) }
        }
        return RegistryClient(credentials: CredentialStore(explicit: explicit), configuration: configuration)
    }
}
