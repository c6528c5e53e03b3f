public import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1
public import SlipwayKernel
import SlipwayOCI

/// Downloads a tarball context over http(s), streaming it to disk with a size limit, and
/// unpacks it with the layer extractor's defences: no `..`, no absolute paths, nothing through
/// symlinks, no device files, and a cap on the unpacked size (decompression bombs).
public struct TarballCheckout: Sendable {
    public let url: String
    /// The most the download may be, in bytes; the transfer stops as soon as it goes past.
    public let limit: Int64
    public let client: HTTPClient

    public static let defaultLimit: Int64 = 1 << 30

    public init(url: String, limit: Int64 = TarballCheckout.defaultLimit, client: HTTPClient = HTTPClient.shared) {
        self.url = url
        self.limit = limit
        self.client = client
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// - Returns: `directory` and the facts `url` and `digest` (of the downloaded file).
    public func materialize(into directory: URL) async throws -> MaterializedContext {
        guard TarballLocator.isTarball(url) else {
            throw Failure(description: "\(url): a tarball context is an http(s) URL of a .tar, .tar.gz, .tgz, .tar.zst, .tar.xz or .tar.bz2 file")
        }
        let download = directory.deletingLastPathComponent().appendingPathComponent(".\(UUID().uuidString).download")
        defer { try? FileManager.default.removeItem(at: download) }
        let digest = try await fetch(to: download)
        do {
            // Unpacked, a context may be larger than its download, but not without bound.
            let limits = LayerExtractor.Limits(maxEntries: 200_000, maxTotalBytes: limit * 8, allowDevices: false, keepOwnership: false)
            try LayerExtractor(limits: limits).extract(download, into: directory)
        } catch {
            throw Failure(description: "refusing the tarball context \(url): \(error)")
        }
        return MaterializedContext(directory: directory.path, facts: ["url": url, "digest": digest.description])
    }

    private func fetch(to file: URL) async throws -> Digest {
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
            throw Failure(description: "\(url) is \(length) bytes, more than the context limit of \(limit); not downloading it")
        }
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw Failure(description: "cannot create \(file.path)")
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        var hasher = DigestHasher()
        for try await chunk in response.body {
            guard hasher.count + Int64(chunk.readableBytes) <= limit else {
                throw Failure(description: "\(url) is larger than the context limit of \(limit) bytes; download stopped")
            }
            chunk.withUnsafeReadableBytes { hasher.update($0) }
            try chunk.withUnsafeReadableBytes { try handle.write(contentsOf: Data($0)) }
        }
        return hasher.finalize()
    }
}
