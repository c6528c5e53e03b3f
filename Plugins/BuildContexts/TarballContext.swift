public import SlipwayKernel
import Foundation
import Logging

/// `tarball { url = "https://host/context.tar.gz" }`: a build context from a remote tarball,
/// streamed with a size limit (1 GiB) and unpacked safely. A recipe passes it to
/// `build { context = tarball { … } }`.
public struct TarballContext: PluginKind, ContextLocating {
    public struct Configuration: Decodable, Sendable {
        public var url: String
    }

    public static let kind = "tarball"
    public static let summary = "a build context from an http(s) .tar/.tar.gz/.tar.zst/.tar.xz URL: tarball { url = … }"
    let configuration: Configuration

    public init(configuration: Configuration) throws {
        guard TarballLocator.isTarball(configuration.url) else {
            throw ConfigurationError(path: [.key("url")], message: "'\(configuration.url)' is not an http(s) URL of a .tar, .tar.gz, .tgz, .tar.zst or .tar.xz file")
        }
        self.configuration = configuration
    }

    public var locator: String { configuration.url }

    /// The URL: a tarball has no cheaper identity than its bytes, which the build reads anyway.
    public func cacheKey(for version: Version?, in context: StepContext) async throws -> String { configuration.url }

    public func materialize(_ version: Version?, into directory: String, in context: StepContext) async throws -> MaterializedContext {
        context.logger.info("downloading \(configuration.url)")
        return try await TarballCheckout(url: configuration.url, limit: TarballCheckout.defaultLimit).materialize(into: URL(fileURLWithPath: directory))
    }
}
