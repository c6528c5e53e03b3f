public import AsyncHTTPClient
public import Foundation
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
        // The download sits beside the context folder, in the caller's scratch folder, which
        // need not exist yet.
        try FileManager.default.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
        let download = directory.deletingLastPathComponent().appendingPathComponent(".\(UUID().uuidString).download")
        defer { try? FileManager.default.removeItem(at: download) }
        let digest: Digest
        do {
            digest = try await HTTPDownload(url: url, limit: limit, client: client).fetch(to: download)
        } catch let failure as HTTPDownload.Failure {
            throw Failure(description: failure.description)
        }
        do {
            // Unpacked, a context may be larger than its download, but not without bound.
            let limits = LayerExtractor.Limits(maxEntries: 200_000, maxTotalBytes: limit * 8, allowDevices: false, keepOwnership: false)
            try LayerExtractor(limits: limits).extract(download, into: directory)
        } catch {
            throw Failure(description: "refusing the tarball context \(url): \(error)")
        }
        return MaterializedContext(directory: directory.path, facts: ["url": url, "digest": digest.description])
    }
}
