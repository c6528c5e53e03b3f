/// Turns a build context and a build spec into an image in the local content store.
/// A builder makes no network pushes; publishing is a ``Publisher``'s separate step.
public protocol Builder: Sendable {
    func build(_ buildContext: MaterializedContext, in context: StepContext) async throws -> BuildReport
}

/// What a build produced and what it was built from.
public struct BuildReport: Sendable, Hashable, Codable {
    /// Digest of the image manifest in the local store.
    public var digest: String
    /// The final stage's base: what a base-image update rebuilds or rebases.
    public var runtimeBase: BaseImage?
    /// Bases of the other stages.
    public var buildTimeBases: [BaseImage]
    /// One entry per layer, bottom first.
    public var layers: [LayerOrigin]

    public init(digest: String, runtimeBase: BaseImage?, buildTimeBases: [BaseImage], layers: [LayerOrigin]) {
        self.digest = digest
        self.runtimeBase = runtimeBase
        self.buildTimeBases = buildTimeBases
        self.layers = layers
    }
}

/// A base image as written (`alpine:3.20`) and the digest it resolved to at build time.
public struct BaseImage: Sendable, Hashable, Codable {
    public var reference: String
    public var digest: String

    public init(reference: String, digest: String) {
        self.reference = reference
        self.digest = digest
    }
}

/// Where a layer came from: what decides whether an image can be patched by rebase.
public struct LayerOrigin: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable { case base, copy, add, run, meta }
    public var kind: Kind
    public var digest: String

    public init(kind: Kind, digest: String) {
        self.kind = kind
        self.digest = digest
    }
}
