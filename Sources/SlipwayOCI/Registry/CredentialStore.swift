public import Foundation
import SlipwayKernel

/// A username and password (or token) for one registry. Never printed.
public struct Credential: Sendable, Hashable, CustomStringConvertible {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var description: String { "\(username):***" }
}

/// Finds credentials for a registry, first match wins:
/// 1. explicit ones (command-line flags),
/// 2. `$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json` (podman, skopeo, buildah),
/// 3. `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
/// In each file: a `credHelpers` entry for the registry, then `auths`, then the `credsStore`
/// helper. Helpers are `docker-credential-NAME get` programs.
public struct CredentialStore: Sendable {
    public var explicit: [String: Credential]
    public var files: [URL]
    /// Where `docker-credential-*` helpers are looked up (the environment's PATH).
    public var helperPath: String

    public init(explicit: [String: Credential] = [:], environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.explicit = explicit
        helperPath = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        var files: [URL] = []
        if let file = environment["REGISTRY_AUTH_FILE"], !file.isEmpty {
            files.append(URL(fileURLWithPath: file))
        } else if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            files.append(URL(fileURLWithPath: runtime).appendingPathComponent("containers/auth.json"))
        }
        let dockerConfig = environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.docker")
        files.append(URL(fileURLWithPath: dockerConfig).appendingPathComponent("config.json"))
        self.files = files
    }

    /// Credentials for `registry` (`host[:port]`), or nil for anonymous access.
    /// - Throws: ``RegistryError`` when a configured helper fails.
    public func credential(for registry: String) async throws -> Credential? {
        if let credential = explicit[registry] { return credential }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file.path) else { continue }
            guard let config = try? JSONDecoder().decode(AuthFile.self, from: data) else {
                throw RegistryError(kind: .invalidResponse, url: file.path, message: "credentials file is not valid JSON")
            }
            if let helper = config.credHelpers?[registry] { return try await Self.runHelper(helper, registry: registry, path: helperPath) }
            for key in Self.keys(for: registry) {
                if let entry = config.auths?[key], let credential = entry.credential { return credential }
            }
            if let helper = config.credsStore, !helper.isEmpty,
                let credential = try? await Self.runHelper(helper, registry: registry, path: helperPath)
            {
                return credential
            }
        }
        return nil
    }

    /// How files spell a registry: `host`, `https://host`, and Docker Hub's legacy URL.
    static func keys(for registry: String) -> [String] {
        var keys = [registry, "https://\(registry)", "http://\(registry)", "https://\(registry)/v1/", "https://\(registry)/v2/"]
        if registry == ImageReference.dockerHub {
            keys += ["https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io"]
        }
        return keys
    }

    struct AuthFile: Decodable {
        struct Entry: Decodable {
            var auth: String?
            var username: String?
            var password: String?

            var credential: Credential? {
                if let username, let password { return Credential(username: username, password: password) }
                guard let auth, let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
                    let colon = decoded.firstIndex(of: ":")
                else { return nil }
                return Credential(username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
            }
        }

        var auths: [String: Entry]?
        var credHelpers: [String: String]?
        var credsStore: String?
    }

    /// `docker-credential-NAME get`, with the registry on stdin.
    static func runHelper(_ name: String, registry: String, path: String) async throws -> Credential? {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw RegistryError(kind: .invalidResponse, url: registry, message: "invalid credential helper name '\(name)'")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["docker-credential-\(name)", "get"]
        process.environment = ["PATH": path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw RegistryError(kind: .unauthorized, url: registry, message: "credential helper docker-credential-\(name) cannot run", cause: error)
        }
        try input.fileHandleForWriting.write(contentsOf: Data(registry.utf8))
        try input.fileHandleForWriting.close()
        let data = await BlockingWork.run { output.fileHandleForReading.readDataToEndOfFile() }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }  // "credentials not found"
        struct Reply: Decodable {
            var Username: String
            var Secret: String
        }
        guard let reply = try? JSONDecoder().decode(Reply.self, from: data) else {
            throw RegistryError(kind: .invalidResponse, url: registry, message: "credential helper docker-credential-\(name) gave no credentials")
        }
        return Credential(username: reply.Username, password: reply.Secret)
    }
}
