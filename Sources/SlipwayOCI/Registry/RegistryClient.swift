public import AsyncHTTPClient
public import Foundation
public import Logging
import NIOCore
import SlipwayKernel
import NIOHTTP1

/// A client for the OCI distribution API. Plain HTTP is used only for loopback registries and
/// those named as insecure; every other registry is spoken to over HTTPS.
public struct RegistryClient: Sendable {
    public struct Configuration: Sendable {
        /// Registries (`host:port`) that may be reached over plain HTTP.
        public var insecureRegistries: Set<String>
        public var retry: RetryPolicy
        /// Blobs larger than this are uploaded in chunks.
        public var chunkedUploadThreshold: Int64
        public var chunkSize: Int
        /// Layers transferred at once during a pull or push.
        public var parallelTransfers: Int
        /// Receives blob transfer progress (for a terminal display).
        public var progress: (@Sendable (TransferProgress) -> Void)?

        public init(
            insecureRegistries: Set<String> = [], retry: RetryPolicy = .standard, chunkedUploadThreshold: Int64 = 64 << 20,
            chunkSize: Int = 16 << 20, parallelTransfers: Int = 4
        ) {
            self.insecureRegistries = insecureRegistries
            self.retry = retry
            self.chunkedUploadThreshold = chunkedUploadThreshold
            self.chunkSize = chunkSize
            self.parallelTransfers = max(1, parallelTransfers)
        }
    }

    /// One step of a blob transfer.
    public struct TransferProgress: Sendable {
        public enum Phase: Sendable { case started, transferred(Int64), finished(String) }
        public enum Direction: String, Sendable { case pull, push }
        public var direction: Direction
        public var digest: Digest
        public var size: Int64
        public var phase: Phase
    }

    func report(_ direction: TransferProgress.Direction, _ descriptor: Descriptor, _ phase: TransferProgress.Phase) {
        configuration.progress?(TransferProgress(direction: direction, digest: descriptor.digest, size: descriptor.size, phase: phase))
    }

    let httpClient: HTTPClient
    let authenticator: Authenticator
    public private(set) var configuration: Configuration
    private(set) var logger: Logger

    /// The HTTP client registry clients share by default. AsyncHTTPClient's own connection
    /// retries are off: with them, a refused connection is retried silently until the request
    /// deadline (minutes); our ``RetryPolicy`` retries instead, with backoff the logs show.
    public static let defaultHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(10)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public init(
        credentials: CredentialStore = CredentialStore(), configuration: Configuration = Configuration(),
        httpClient: HTTPClient = RegistryClient.defaultHTTPClient, logger: Logger = Logger(label: "slipway.registry")
    ) {
        self.httpClient = httpClient
        authenticator = Authenticator(credentials: credentials, httpClient: httpClient)
        self.configuration = configuration
        self.logger = logger
    }

    /// The same client (connections, credentials, token cache) with its log lines and transfer
    /// progress sent elsewhere: a step's copy reports into that step's log and progress.
    public func reporting(to logger: Logger, progress: (@Sendable (TransferProgress) -> Void)?) -> RegistryClient {
        var copy = self
        copy.logger = logger
        copy.configuration.progress = progress
        return copy
    }

    // MARK: URLs

    /// Whether `registry` is on this machine (so plain HTTP is acceptable).
    public static func isLoopback(_ registry: String) -> Bool {
        var host = registry
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            host = String(host[host.index(after: host.startIndex)..<end])
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    func scheme(for registry: String) -> String {
        Self.isLoopback(registry) || configuration.insecureRegistries.contains(registry) ? "http" : "https"
    }

    func repositoryURL(_ reference: ImageReference) -> String {
        "\(baseURL(reference))/v2/\(reference.repository)"
    }

    /// `scheme://host[:port]` of `reference`'s registry, against which relative Locations resolve.
    func baseURL(_ reference: ImageReference) -> String {
        "\(scheme(for: reference.registry))://\(reference.apiHost)"
    }

    static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }
    static func pushScope(_ repository: String) -> String { "repository:\(repository):pull,push" }

    // MARK: Requests

    /// Sends a request, answering auth challenges and retrying 429/5xx/connection loss per the
    /// retry policy (when `retrying`). Returns the final response, whatever its status.
    func send(
        _ method: HTTPMethod, _ url: String, registry: String, scopes: [String], headers: HTTPHeaders = [:],
        body: (@Sendable () throws -> HTTPClientRequest.Body)? = nil, retrying: Bool = true, timeout: TimeAmount = .minutes(10)
    ) async throws -> HTTPClientResponse {
        var authorization = try await authenticator.authorization(registry: registry, scopes: scopes)
        var answeredChallenge = false
        var attempt = 0
        let maxAttempts = retrying ? configuration.retry.maxAttempts : 1
        while true {
            attempt += 1
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers = headers
            if let authorization { request.headers.replaceOrAdd(name: "Authorization", value: authorization) }
            if let body { request.body = try body() }
            let response: HTTPClientResponse
            do {
                response = try await httpClient.execute(request, timeout: timeout)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                guard attempt < maxAttempts else {
                    throw RegistryError(kind: .transport, url: url, message: "request failed after \(attempt) attempt(s)", cause: error)
                }
                let delay = configuration.retry.delay(afterAttempt: attempt, retryAfter: nil)
                logger.warning("\(method) \(url) failed (\(error)); retrying in \(DurationText.format(delay))")
                try await Task.sleep(for: delay)
                continue
            }
            if response.status == .unauthorized && !answeredChallenge {
                answeredChallenge = true
                _ = try? await response.body.collect(upTo: 1 << 20)
                authorization = try await authenticator.challenged(
                    registry: registry, header: response.headers.first(name: "WWW-Authenticate"), scopes: scopes, url: url)
                attempt -= 1
                continue
            }
            if RetryPolicy.isRetryable(status: Int(response.status.code)) && attempt < maxAttempts {
                _ = try? await response.body.collect(upTo: 1 << 20)
                let delay = configuration.retry.delay(afterAttempt: attempt, retryAfter: response.headers.first(name: "Retry-After"))
                logger.warning("\(method) \(url): HTTP \(response.status.code); retrying in \(DurationText.format(delay))")
                try await Task.sleep(for: delay)
                continue
            }
            return response
        }
    }

    /// The error a non-success response stands for, with the registry's own message when given.
    func failure(_ response: HTTPClientResponse, url: String, what: String) async -> RegistryError {
        let body = try? await response.body.collect(upTo: 1 << 20)
        var message = what
        struct ErrorBody: Decodable {
            struct Entry: Decodable {
                var code: String?
                var message: String?
            }
            var errors: [Entry]
        }
        if let body, let decoded = try? JSONDecoder().decode(ErrorBody.self, from: Data(body.readableBytesView)),
            let first = decoded.errors.first
        {
            message += ": " + [first.code, first.message].compactMap { $0 }.joined(separator: ": ")
        }
        let status = Int(response.status.code)
        let kind: RegistryError.Kind =
            switch status {
            case 401: .unauthorized
            case 403: .denied
            case 404: .notFound
            case 429, 500...599: .unavailable
            default: .rejected
            }
        if kind == .unauthorized { message += " (authentication failed: check the credentials for this registry)" }
        return RegistryError(kind: kind, url: url, status: status, message: message)
    }

    // MARK: Operations

    /// Checks that `registry` speaks the distribution API (and that we may talk to it).
    public func ping(_ registry: String) async throws {
        let url = "\(scheme(for: registry))://\(registry == ImageReference.dockerHub ? "registry-1.docker.io" : registry)/v2/"
        let response = try await send(.GET, url, registry: registry, scopes: [])
        guard response.status == .ok else { throw await failure(response, url: url, what: "registry ping failed") }
        _ = try? await response.body.collect(upTo: 1 << 20)
    }

    /// A manifest or index: its bytes, media type and verified digest.
    public struct FetchedManifest: Sendable {
        public var data: Data
        public var mediaType: String
        public var digest: Digest
        public var descriptor: Descriptor { Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count)) }
    }

    /// Fetches the manifest `reference` names (by digest if it has one, else by tag).
    /// - Throws: ``RegistryError`` (`notFound` names the reference), ``OCIError`` on a digest mismatch.
    public func manifest(_ reference: ImageReference) async throws -> FetchedManifest {
        let url = "\(repositoryURL(reference))/manifests/\(reference.identifier)"
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: MediaType.manifestAccept.joined(separator: ", "))
        let response = try await send(.GET, url, registry: reference.registry, scopes: [Self.pullScope(reference.repository)], headers: headers)
        guard response.status == .ok else { throw await failure(response, url: url, what: "manifest \(reference) not available") }
        let data = try await Self.body(of: response, limit: Self.manifestLimit, url: url, what: "the manifest of \(reference)")
        let digest = Digest.sha256(of: data)
        let claimed = try reference.digest ?? response.headers.first(name: "Docker-Content-Digest").map(Digest.init(parsing:))
        if let claimed, claimed.algorithm == .sha256, claimed != digest {
            throw OCIError.digestMismatch(expected: claimed, actual: digest, source: url)
        }
        let mediaType = response.headers.first(name: "Content-Type").map { String($0.split(separator: ";")[0]) }
            ?? (try? JSONDecoder().decode(MediaTypeProbe.self, from: data))?.mediaType ?? MediaType.ociManifest
        return FetchedManifest(data: data, mediaType: mediaType, digest: digest)
    }

    /// The most a manifest may be: the limit the distribution registry itself enforces.
    static let manifestLimit = 4 << 20

    /// A whole response body of at most `limit` bytes; a larger one is a clear error naming
    /// what it was and where, not NIO's bare "too many bytes".
    static func body(of response: HTTPClientResponse, limit: Int, url: String, what: String) async throws -> Data {
        do {
            return Data(try await response.body.collect(upTo: limit).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw RegistryError(
                kind: .invalidResponse, url: url, status: Int(response.status.code),
                message: "\(what) is larger than \(ByteCountText.describe(Int64(limit))); refusing it")
        }
    }

    /// The descriptor of a manifest without fetching it, or nil when there is none.
    public func headManifest(_ reference: ImageReference) async throws -> Descriptor? {
        let url = "\(repositoryURL(reference))/manifests/\(reference.identifier)"
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: MediaType.manifestAccept.joined(separator: ", "))
        let response = try await send(.HEAD, url, registry: reference.registry, scopes: [Self.pullScope(reference.repository)], headers: headers)
        if response.status == .notFound { return nil }
        guard response.status == .ok else { throw await failure(response, url: url, what: "manifest \(reference) not available") }
        guard let digestText = response.headers.first(name: "Docker-Content-Digest") else {
            throw RegistryError(kind: .invalidResponse, url: url, status: 200, message: "no Docker-Content-Digest header")
        }
        let size = response.headers.first(name: "Content-Length").flatMap { Int64($0) } ?? 0
        let mediaType = response.headers.first(name: "Content-Type").map { String($0.split(separator: ";")[0]) } ?? MediaType.ociManifest
        return Descriptor(mediaType: mediaType, digest: try Digest(parsing: digestText), size: size)
    }

    /// Stores a manifest under `reference`'s tag (or digest). - Returns: its digest.
    @discardableResult
    public func putManifest(_ data: Data, mediaType: String, to reference: ImageReference) async throws -> Digest {
        let url = "\(repositoryURL(reference))/manifests/\(reference.identifier)"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: mediaType)
        let response = try await send(
            .PUT, url, registry: reference.registry, scopes: [Self.pushScope(reference.repository)], headers: headers,
            body: { .bytes(ByteBuffer(bytes: data)) })
        guard response.status == .created || response.status == .ok else {
            throw await failure(response, url: url, what: "registry refused the manifest for \(reference)")
        }
        _ = try? await response.body.collect(upTo: 1 << 20)
        return Digest.sha256(of: data)
    }

    /// Deletes the manifest `reference` names (a tag is resolved to its digest first).
    public func deleteManifest(_ reference: ImageReference) async throws {
        var target = reference
        if target.digest == nil {
            guard let descriptor = try await headManifest(reference) else { throw OCIError.notFound("manifest \(reference)") }
            target = reference.with(digest: descriptor.digest)
        }
        let url = "\(repositoryURL(target))/manifests/\(target.digest!)"
        let response = try await send(.DELETE, url, registry: target.registry, scopes: ["repository:\(target.repository):delete"])
        guard response.status == .accepted || response.status == .ok else {
            throw await failure(response, url: url, what: "registry refused to delete \(reference)")
        }
    }

    /// All tags of a repository, following `Link` pagination.
    public func tags(_ reference: ImageReference, pageSize: Int = 100) async throws -> [String] {
        var url: String? = "\(repositoryURL(reference))/tags/list?n=\(pageSize)"
        var tags: [String] = []
        let origin = "\(scheme(for: reference.registry))://\(reference.apiHost)"
        while let current = url {
            let response = try await send(.GET, current, registry: reference.registry, scopes: [Self.pullScope(reference.repository)])
            guard response.status == .ok else { throw await failure(response, url: current, what: "cannot list tags of \(reference.repository)") }
            struct Page: Decodable { var tags: [String]? }
            let body = try await Self.body(of: response, limit: 16 << 20, url: current, what: "the tag list of \(reference.repository)")
            tags += (try? JSONDecoder().decode(Page.self, from: body))?.tags ?? []
            url = Self.nextPage(response.headers.first(name: "Link"), origin: origin)
        }
        return tags
    }

    /// `<url>; rel="next"` → absolute URL.
    static func nextPage(_ link: String?, origin: String) -> String? {
        guard let link, link.contains("rel=\"next\""), let open = link.firstIndex(of: "<"), let close = link.firstIndex(of: ">") else {
            return nil
        }
        let target = String(link[link.index(after: open)..<close])
        return target.hasPrefix("/") ? origin + target : target
    }

    private struct MediaTypeProbe: Decodable { var mediaType: String? }
}
