/// Turns a build request (a context on disk and what to build from it) into an image in the
/// local content store. A builder makes no network pushes; publishing is a ``Publisher``'s
/// separate step. Builders are plugin kinds (`native`, `buildah`): a step that builds finds one
/// by the kind its recipe names, so a new builder is a registration, not an edit.
///
/// The request type is the builder family's: Dockerfile builders share one (the kernel knows no
/// Dockerfiles), and a step asks for the family it speaks.
public protocol Builder: Sendable {
    associatedtype Request: Sendable
    func build(_ request: Request, in context: StepContext) async throws -> BuildReport
}

/// What a build produced and what it was built from.
public struct BuildReport: Sendable, Hashable, Codable {
    /// Digest of the image manifest in the local store.
    public var digest: String
    /// The manifest's media type (OCI or Docker schema 2), as a push must declare it.
    public var mediaType: String
    /// The final stage's base: what a base-image update rebuilds or rebases.
    public var runtimeBase: BaseImage?
    /// Bases of the other stages.
    public var buildTimeBases: [BaseImage]
    /// One entry per layer, bottom first.
    public var layers: [LayerOrigin]

    public init(digest: String, mediaType: String, runtimeBase: BaseImage?, buildTimeBases: [BaseImage], layers: [LayerOrigin]) {
        self.digest = digest
        self.mediaType = mediaType
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
