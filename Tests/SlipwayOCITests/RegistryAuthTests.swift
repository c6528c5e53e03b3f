import Foundation
import SlipwayOCI
import SlipwayTesting
import Testing

@Suite(.serialized)
struct RegistryAuthTests {
    static let user = "alice"
    static let password = "wonderland-\(UUID().uuidString.prefix(6))"

    func folder() throws -> URL { try Scratch.directory("auth") }

    func pushAndPull(_ registry: RegistryHarness, credentials: CredentialStore) async throws {
        let store = try ContentStore(root: try folder().appendingPathComponent("store"))
        let image = try OCITestImages.write(into: store, files: ["secret.txt": "guarded"])
        let reference = try ImageReference(parsing: "\(registry.address)/private/app:1")
        let client = RegistryClient(credentials: credentials)
        _ = try await client.push(image.manifest, from: store, to: reference)
        let destination = try ContentStore(root: try folder().appendingPathComponent("store"))
        #expect(try await client.pull(reference, into: destination).descriptor.digest == image.manifest.digest)
    }

    @Test func basicAuthWithExplicitCredentials() async throws {
        let registry = try await RegistryHarness.start(auth: .basic(username: Self.user, password: Self.password))
        try await pushAndPull(
            registry,
            credentials: CredentialStore(explicit: [registry.address: Credential(username: Self.user, password: Self.password)], environment: [:]))
    }

    @Test func anonymousAccessIsRefusedClearly() async throws {
        let registry = try await RegistryHarness.start(auth: .basic(username: Self.user, password: Self.password))
        await #expect {
            try await RegistryClient(credentials: CredentialStore(environment: [:])).ping(registry.address)
        } throws: { error in
            (error as? RegistryError)?.kind == .unauthorized && String(describing: error).contains("authentication required by \(registry.address)")
        }
    }

    @Test func wrongCredentialsNameTheRegistry() async throws {
        let registry = try await RegistryHarness.start(auth: .basic(username: Self.user, password: Self.password))
        let credentials = CredentialStore(explicit: [registry.address: Credential(username: Self.user, password: "wrong")], environment: [:])
        await #expect {
            try await RegistryClient(credentials: credentials).ping(registry.address)
        } throws: { error in
            let text = String(describing: error)
            return (error as? RegistryError)?.kind == .unauthorized && text.contains("http://\(registry.address)/v2/")
                && text.contains("check the credentials") && !text.contains("wrong")
        }
    }

    @Test func credentialsFromDockerConfig() async throws {
        let registry = try await RegistryHarness.start(auth: .basic(username: Self.user, password: Self.password))
        let config = try folder()
        let auth = Data("\(Self.user):\(Self.password)".utf8).base64EncodedString()
        try #"{"auths":{"\#(registry.address)":{"auth":"\#(auth)"}}}"#.write(
            to: config.appendingPathComponent("config.json"), atomically: false, encoding: .utf8)
        try await pushAndPull(registry, credentials: CredentialStore(environment: ["DOCKER_CONFIG": config.path]))
    }

    @Test func credentialsFromContainersAuthFile() async throws {
        let registry = try await RegistryHarness.start(auth: .basic(username: Self.user, password: Self.password))
        let runtime = try folder()
        try FileManager.default.createDirectory(at: runtime.appendingPathComponent("containers"), withIntermediateDirectories: true)
        let auth = Data("\(Self.user):\(Self.password)".utf8).base64EncodedString()
        try #"{"auths":{"\#(registry.address)":{"auth":"\#(auth)"}}}"#.write(
            to: runtime.appendingPathComponent("containers/auth.json"), atomically: false, encoding: .utf8)
        try await pushAndPull(
            registry, credentials: CredentialStore(environment: ["XDG_RUNTIME_DIR": runtime.path, "DOCKER_CONFIG": "/nonexistent"]))
    }

    @Test func credentialsFromAHelper() async throws {
        let registry = try await RegistryHarness.start(auth: .basic(username: Self.user, password: Self.password))
        let bin = try folder()
        let helper = bin.appendingPathComponent("docker-credential-slipwaytest")
        try """
            #!/bin/sh
            read host
            [ "$host" = "\(registry.address)" ] || exit 1
            printf '{"ServerURL":"%s","Username":"\(Self.user)","Secret":"\(Self.password)"}' "$host"
            """.write(to: helper, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: helper.path)
        let config = try folder()
        try #"{"credHelpers":{"\#(registry.address)":"slipwaytest"}}"#.write(
            to: config.appendingPathComponent("config.json"), atomically: false, encoding: .utf8)
        try await pushAndPull(
            registry, credentials: CredentialStore(environment: ["DOCKER_CONFIG": config.path, "PATH": bin.path + ":/usr/bin:/bin"]))
    }

    @Test func challengeHeadersParse() throws {
        let bearer = try #require(AuthChallenge(header: #"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#))
        #expect(bearer.scheme == .bearer)
        #expect(bearer.realm == "https://auth.example.com/token")
        #expect(bearer.service == "registry.example.com")
        #expect(bearer.scope == "repository:a/b:pull,push")
        #expect(AuthChallenge(header: #"Basic realm="Registry Realm""#)?.realm == "Registry Realm")
        #expect(AuthChallenge(header: "Negotiate abc") == nil)
    }
}

@Suite(.serialized)
struct RegistryBearerTokenTests {
    @Test func bearerTokenFlowWithScopesAndCaching() async throws {
        let tokens = try await TokenServer.start(username: "bob", password: "builder")
        let registry = try await RegistryHarness.start(
            auth: .token(realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, certificate: tokens.certificate))
        let store = try ContentStore(root: Scratch.location("bearer"))
        let image = try OCITestImages.write(into: store, files: ["a": "token-protected"])
        let credentials = CredentialStore(explicit: [registry.address: Credential(username: "bob", password: "builder")], environment: [:])
        let client = RegistryClient(credentials: credentials)
        let reference = try ImageReference(parsing: "\(registry.address)/bearer/app:1")
        let report = try await client.push(image.manifest, from: store, to: reference)
        #expect(report.uploaded == 2)
        let afterPush = tokens.tokensIssued
        // Tokens are cached per scope: a second push of the same repository asks for none.
        _ = try await client.push(image.manifest, from: store, to: reference)
        #expect(tokens.tokensIssued == afterPush)
        let destination = try ContentStore(root: store.root.deletingLastPathComponent().appendingPathComponent("bearer-\(UUID().uuidString)"))
        #expect(try await client.pull(reference, into: destination).descriptor.digest == image.manifest.digest)

        let wrong = RegistryClient(
            credentials: CredentialStore(explicit: [registry.address: Credential(username: "bob", password: "nope")], environment: [:]))
        await #expect {
            try await wrong.pull(reference, into: destination)
        } throws: { error in
            (error as? RegistryError)?.kind == .unauthorized && String(describing: error).contains("token service refused \(registry.address)")
        }
    }
}

struct PlainHTTPPolicyTests {
    @Test(arguments: [("localhost:5000", true), ("127.0.0.1:5000", true), ("127.9.9.9", true), ("[::1]:5000", true),
                      ("registry.example.com", false), ("10.0.0.5:5000", false), ("localhost.example.com", false)])
    func onlyLoopbackIsPlainHTTPByDefault(registry: String, loopback: Bool) {
        #expect(RegistryClient.isLoopback(registry) == loopback)
    }
}
