public import SlipwayKernel
import Foundation
import Logging

/// `git { url = "https://host/repo.git", ref = "main", subdir = "app" }` (or the locator in one
/// string, `url = "https://host/repo.git#main:app"`): a build context from a Git repository
/// (branch, tag, commit sha or `pull/N/head`, and a subdirectory), fetched shallowly. A recipe
/// passes it to `build { context = git { … } }`. When a trigger saw a commit (`sha` in the
/// version), that commit is what is fetched, not whatever the branch points at by then.
public struct GitContext: PluginKind, ContextLocating {
    public struct Configuration: Decodable, Sendable {
        /// The repository URL, or the whole locator `URL#ref:subdir`.
        public var url: String
        /// A branch, tag, commit sha or `pull/N/head` (default: the remote's default branch).
        public var ref: String?
        /// A folder of the repository to use as the context.
        public var subdir: String?

        public init(url: String, ref: String? = nil, subdir: String? = nil) {
            self.url = url
            self.ref = ref
            self.subdir = subdir
        }
    }

    public static let kind = "git"
    public static let summary = "a build context from a Git repository: git { url = …, ref = …, subdir = … }"
    public let gitLocator: GitLocator

    public init(configuration: Configuration) throws {
        if configuration.url.contains("#") && (configuration.ref != nil || configuration.subdir != nil) {
            throw ConfigurationError(path: [.key("url")], message: "give the ref and folder either in the URL (#ref:subdir) or as ref and subdir, not both")
        }
        var text = configuration.url
        if configuration.ref != nil || configuration.subdir != nil {
            text += "#" + (configuration.ref ?? "") + (configuration.subdir.map { ":" + $0 } ?? "")
        }
        do {
            gitLocator = try GitLocator(parsing: text)
        } catch {
            throw ConfigurationError(path: [.key(configuration.ref != nil ? "ref" : "url")], message: "\(error)")
        }
    }

    public var locator: String { gitLocator.text }

    /// The commit the ref points at now, asked of the server without fetching anything.
    public func cacheKey(for version: Version?, in context: StepContext) async throws -> String {
        try await GitCheckout(located(at: version)).resolve() + (gitLocator.subdirectory.map { ":" + $0 } ?? "")
    }

    public func materialize(_ version: Version?, into directory: String, in context: StepContext) async throws -> MaterializedContext {
        let located = try located(at: version)
        context.logger.info("fetching \(located)")
        return try await GitCheckout(located).materialize(into: URL(fileURLWithPath: directory))
    }

    /// The locator at the commit a trigger saw (`sha` or `commit` in its version), if any.
    func located(at version: Version?) throws -> GitLocator {
        guard let sha = version?.fields["sha"] ?? version?.fields["commit"] else { return gitLocator }
        return try gitLocator.at(ref: sha)
    }
}
