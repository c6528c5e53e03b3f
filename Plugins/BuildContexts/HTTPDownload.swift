public import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1
public import SlipwayOCI

/// One file over http(s), streamed to disk with a size limit that stops the transfer as soon
/// as it is passed (or before it starts, when the server announces a larger Content-Length).
public struct HTTPDownload: Sendable {
    public let url: String
    public let limit: Int64
    public let client: HTTPClient

    public init(url: String, limit: Int64, client: HTTPClient = HTTPClient.shared) {
        self.url = url
        self.limit = limit
        self.client = client
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Streams the body into `file`, hashing as it goes.
    /// - Returns: the SHA-256 digest of what was written.
    public func fetch(to file: URL) async throws -> Digest {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(30))
        } catch {
            throw Failure(description: "cannot download \(url): \(error)")
        }
        guard response.status == .ok else { throw Failure(description: "cannot download \(url): HTTP \(response.status.code)") }
        if let length = response.headers.first(name: "Content-Length").flatMap(Int64.init), length > limit {
            throw Failure(description: "\(url) is \(length) bytes, more than the limit of \(limit); not downloading it")
        }
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw Failure(description: "cannot create \(file.path)")
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        var hasher = DigestHasher()
        for try await chunk in response.body {
            guard hasher.count + Int64(chunk.readableBytes) <= limit else {
                throw Failure(description: "\(url) is larger than the limit of \(limit) bytes; download stopped")
            }
            chunk.withUnsafeReadableBytes { hasher.update($0) }
            try chunk.withUnsafeReadableBytes { try handle.write(contentsOf: Data($0)) }
        }
        return hasher.finalize()
    }
}
