public import SlipwayKernel
import Foundation
import Logging

/// `git_context { url = "https://host/repo.git#main:app" }`: a build context from a Git
/// repository (branch, tag, commit sha or `pull/N/head`, and a subdirectory), fetched shallowly.
public struct GitContext: PluginKind, ContextSource {
    public struct Configuration: Decodable, Sendable {
        /// The locator, `URL#ref:subdir`.
        public var url: String
    }

    public static let kind = "git_context"
    public static let summary = "a build context from a Git repository: URL#ref:subdir"
    public let locator: GitLocator

    public init(configuration: Configuration) throws {
        do {
            locator = try GitLocator(parsing: configuration.url)
        } catch {
            throw ConfigurationError(path: [.key("url")], message: "\(error)")
        }
    }

    /// The commit the ref points at now, asked of the server without fetching anything.
    public func cacheKey(for version: Version?, in context: StepContext) async throws -> String {
        try await GitCheckout(locator).resolve() + (locator.subdirectory.map { ":" + $0 } ?? "")
    }

    public func materialize(_ version: Version?, into directory: String, in context: StepContext) async throws -> MaterializedContext {
        context.logger.info("fetching \(locator)")
        return try await GitCheckout(locator).materialize(into: URL(fileURLWithPath: directory))
    }
}
