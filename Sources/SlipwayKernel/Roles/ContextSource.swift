/// Produces a build context directory: a local folder, a Git checkout, a remote tarball.
public protocol ContextSource: Sendable {
    /// A cheap key that changes whenever the materialised content would (a commit sha, a
    /// directory's content hash); computed before any work, to skip unchanged builds.
    func cacheKey(for version: Version?, in context: StepContext) async throws -> String
    /// Writes the context into `directory` (an empty folder the host owns).
    func materialize(_ version: Version?, into directory: String, in context: StepContext) async throws
        -> MaterializedContext
}

/// A build context on disk and the facts that describe it.
public struct MaterializedContext: Sendable, Hashable, Codable {
    public var directory: String
    /// `commit`, `branch`, `subdir`...: they become run variables.
    public var facts: [String: String]

    public init(directory: String, facts: [String: String] = [:]) {
        self.directory = directory
        self.facts = facts
    }
}

/// A context source a recipe can name: `build { context = git { url = …, ref = … } }`. Its
/// constructor validates the configuration and stands for a context locator (the same text
/// `slipway build` takes: a folder, `URL#ref:subdir`, a tarball URL), which is all a build step
/// needs to fetch it. A source whose configuration a locator cannot express refuses it.
public protocol ContextLocating: ContextSource {
    var locator: String { get }
}
