public import Foundation
import Crypto
import Synchronization

/// A bearer-token service for the registry's `token` auth, on loopback: it checks HTTP basic
/// credentials and issues ES256 JWTs carrying the requested repository scopes, signed by a key
/// whose self-signed certificate the registry trusts (its `rootcertbundle`).
public final class TokenServer: Sendable {
    public let realm: String
    public let service = "slipway-test-registry"
    public let issuer = "slipway-test-token-server"
    public let certificate: URL
    private let server: LoopbackHTTPServer
    private let issued: Counter

    /// Tokens issued so far.
    public var tokensIssued: Int { issued.value }

    final class Counter: Sendable {
        private let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        func increment() { count.withLock { $0 += 1 } }
    }

    private init(realm: String, certificate: URL, server: LoopbackHTTPServer, issued: Counter) {
        self.realm = realm
        self.certificate = certificate
        self.server = server
        self.issued = issued
    }

    public static func start(username: String, password: String) async throws -> TokenServer {
        try Prerequisites.require(["openssl"])
        let directory = Scratch.location("token")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keyFile = directory.appendingPathComponent("key.pem")
        let certificate = directory.appendingPathComponent("cert.pem")
        try await Shell.run("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=slipway-test-token", "-keyout", keyFile.path, "-out", certificate.path,
        ])
        // Raw key bytes are Sendable; the key is rebuilt per request inside the handler.
        let keyBytes = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOf: keyFile, encoding: .utf8)).rawRepresentation
        let pem = try String(contentsOf: certificate, encoding: .utf8)
        let der = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let expected = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        let issued = Counter()
        let service = "slipway-test-registry"
        let issuer = "slipway-test-token-server"
        let server = try await LoopbackHTTPServer.start { request in
            guard request.header("Authorization") == expected else {
                return LoopbackHTTPServer.Response(status: 401, body: Data(#"{"details":"bad credentials"}"#.utf8))
            }
            let scopes = URLComponents(string: request.uri)?.queryItems?.filter { $0.name == "scope" }.compactMap(\.value) ?? []
            let access: [[String: Any]] = scopes.compactMap { scope in
                // repository:NAME:ACTIONS, where NAME may itself contain ':' (a port) but not here.
                let parts = scope.split(separator: ":")
                guard parts.count == 3 else { return nil }
                return ["type": String(parts[0]), "name": String(parts[1]), "actions": parts[2].split(separator: ",").map(String.init)]
            }
            let now = Int(Date().timeIntervalSince1970)
            let header: [String: Any] = ["alg": "ES256", "typ": "JWT", "x5c": [der]]
            let claims: [String: Any] = [
                "iss": issuer, "sub": username, "aud": service, "exp": now + 300, "nbf": now - 30, "iat": now,
                "jti": UUID().uuidString, "access": access,
            ]
            guard let key = try? P256.Signing.PrivateKey(rawRepresentation: keyBytes),
                let token = try? sign(header: header, claims: claims, key: key)
            else {
                return LoopbackHTTPServer.Response(status: 500)
            }
            issued.increment()
            let body = try? JSONSerialization.data(withJSONObject: ["token": token, "expires_in": 300])
            return LoopbackHTTPServer.Response(status: 200, headers: [("Content-Type", "application/json")], body: body ?? Data())
        }
        return TokenServer(
            realm: "http://127.0.0.1:\(server.port)/token", certificate: certificate, server: server, issued: issued)
    }

    public func stop() { server.stop() }

    static func sign(header: [String: Any], claims: [String: Any], key: P256.Signing.PrivateKey) throws -> String {
        func encode(_ object: [String: Any]) throws -> String {
            base64URL(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        }
        let input = try encode(header) + "." + encode(claims)
        let signature = try key.signature(for: Data(input.utf8))
        return input + "." + base64URL(signature.rawRepresentation)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
