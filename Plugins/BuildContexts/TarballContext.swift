public import SlipwayKernel
import Foundation
import Logging

/// `tarball_context { url = "https://host/context.tar.gz", max_bytes = 100000000 }`: a build
/// context from a remote tarball, streamed with a size limit and unpacked safely.
public struct TarballContext: PluginKind, ContextSource {
    public struct Configuration: Decodable, Sendable {
        public var url: String
        public var maxBytes: Int64?
    }

    public static let kind = "tarball_context"
    public static let summary = "a build context from an http(s) .tar/.tar.gz/.tar.zst/.tar.xz URL"
    let configuration: Configuration

    public init(configuration: Configuration) throws {
        guard TarballLocator.isTarball(configuration.url) else {
            throw ConfigurationError(path: [.key("url")], message: "'\(configuration.url)' is not an http(s) URL of a .tar, .tar.gz, .tgz, .tar.zst or .tar.xz file")
        }
        self.configuration = configuration
    }

    /// The URL: a tarball has no cheaper identity than its bytes, which the build reads anyway.
    public func cacheKey(for version: Version?, in context: StepContext) async throws -> String { configuration.url }

    public func materialize(_ version: Version?, into directory: String, in context: StepContext) async throws -> MaterializedContext {
        context.logger.info("downloading \(configuration.url)")
        return try await TarballCheckout(url: configuration.url, limit: configuration.maxBytes ?? TarballCheckout.defaultLimit)
            .materialize(into: URL(fileURLWithPath: directory))
    }
}
