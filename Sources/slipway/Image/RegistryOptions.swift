import ArgumentParser
import Foundation
import SlipwayOCI

/// Options of the commands that name their registries: the store options, and credentials for
/// those registries from the command line.
struct RegistryOptions: ParsableArguments {
    @OptionGroup var host: StoreOptions

    @Option(help: "User name for the registries of this command (with --password-stdin).")
    var username: String?

    @Flag(help: "Read the password (or token) for --username from standard input.")
    var passwordStdin = false

    func validate() throws {
        if passwordStdin != (username != nil) { throw ValidationError("--username and --password-stdin go together") }
    }

    func store() throws -> ContentStore { try host.store() }

    /// A client with credentials for `registries` from the flags, else from the usual files.
    func client(for registries: [String], progress: TransferProgressView? = nil) throws -> RegistryClient {
        var explicit: [String: Credential] = [:]
        if let username, passwordStdin {
            let password = (readLine(strippingNewline: true) ?? "")
            guard !password.isEmpty else { throw InputError("--password-stdin: no password on standard input") }
            for registry in registries { explicit[registry] = Credential(username: username, password: password) }
        }
        return host.client(explicit: explicit, progress: progress)
    }
}
