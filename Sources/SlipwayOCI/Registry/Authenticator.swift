import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Answers registry auth challenges and caches what it learns: the challenge each registry
/// sent, and bearer tokens per (registry, scopes) until shortly before they expire.
actor Authenticator {
    private let credentials: CredentialStore
    private let httpClient: HTTPClient
    private var challenges: [String: AuthChallenge] = [:]
    private var tokens: [String: (value: String, expires: ContinuousClock.Instant)] = [:]
    private var resolvedCredentials: [String: Credential?] = [:]

    init(credentials: CredentialStore, httpClient: HTTPClient) {
        self.credentials = credentials
        self.httpClient = httpClient
    }

    /// An `Authorization` value to send proactively, when a challenge is already known.
    func authorization(registry: String, scopes: [String]) async throws -> String? {
        guard let challenge = challenges[registry] else { return nil }
        return try await answer(challenge, registry: registry, scopes: scopes, refresh: false)
    }

    /// Handles a 401: remembers the challenge and returns the header to retry with.
    /// - Throws: ``RegistryError`` (`unauthorized`) when there is nothing to answer with.
    func challenged(registry: String, header: String?, scopes: [String], url: String) async throws -> String {
        guard let header, let challenge = AuthChallenge(header: header) else {
            throw RegistryError(kind: .unauthorized, url: url, status: 401, message: "authentication required, but the registry sent no usable challenge")
        }
        challenges[registry] = challenge
        guard let value = try await answer(challenge, registry: registry, scopes: scopes, refresh: true) else {
            throw RegistryError(
                kind: .unauthorized, url: url, status: 401,
                message: "authentication required by \(registry); log in (docker/podman login) or pass --creds")
        }
        return value
    }

    private func credential(for registry: String) async throws -> Credential? {
        if let known = resolvedCredentials[registry] { return known }
        let found = try await credentials.credential(for: registry)
        resolvedCredentials[registry] = found
        return found
    }

    private func answer(_ challenge: AuthChallenge, registry: String, scopes: [String], refresh: Bool) async throws -> String? {
        switch challenge.scheme {
        case .basic:
            guard let credential = try await credential(for: registry) else { return nil }
            return "Basic " + Data("\(credential.username):\(credential.password)".utf8).base64EncodedString()
        case .bearer:
            let key = registry + "|" + scopes.sorted().joined(separator: " ")
            if !refresh, let cached = tokens[key], cached.expires > .now { return "Bearer \(cached.value)" }
            let (token, lifetime) = try await fetchToken(challenge, registry: registry, scopes: scopes)
            // Refresh a little early so a token never expires in flight.
            tokens[key] = (token, .now + .seconds(max(10, lifetime - 10)))
            return "Bearer \(token)"
        }
    }

    private func fetchToken(_ challenge: AuthChallenge, registry: String, scopes: [String]) async throws -> (String, Int) {
        guard let realm = challenge.realm, var components = URLComponents(string: realm),
            components.scheme == "https" || components.scheme == "http"
        else {
            throw RegistryError(kind: .unauthorized, url: registry, status: 401, message: "bearer challenge without a usable realm")
        }
        var query = components.queryItems ?? []
        if let service = challenge.service { query.append(URLQueryItem(name: "service", value: service)) }
        for scope in scopes { query.append(URLQueryItem(name: "scope", value: scope)) }
        components.queryItems = query
        guard let url = components.url?.absoluteString else {
            throw RegistryError(kind: .unauthorized, url: realm, message: "cannot build the token URL")
        }
        var request = HTTPClientRequest(url: url)
        if let credential = try await credential(for: registry) {
            request.headers.add(
                name: "Authorization", value: "Basic " + Data("\(credential.username):\(credential.password)".utf8).base64EncodedString())
        }
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, timeout: .seconds(30))
        } catch {
            throw RegistryError(kind: .transport, url: realm, message: "token request failed", cause: error)
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            let kind: RegistryError.Kind = response.status == .unauthorized || response.status == .forbidden ? .unauthorized : .rejected
            throw RegistryError(
                kind: kind, url: realm, status: Int(response.status.code),
                message: "the token service refused \(registry) (wrong credentials?)")
        }
        struct TokenReply: Decodable {
            var token: String?
            var accessToken: String?
            var expiresIn: Int?
            enum CodingKeys: String, CodingKey {
                case token
                case accessToken = "access_token"
                case expiresIn = "expires_in"
            }
        }
        guard let reply = try? JSONDecoder().decode(TokenReply.self, from: Data(body.readableBytesView)),
            let token = reply.token ?? reply.accessToken, !token.isEmpty
        else {
            throw RegistryError(kind: .invalidResponse, url: realm, status: 200, message: "the token service sent no token")
        }
        return (token, reply.expiresIn ?? 60)
    }
}
