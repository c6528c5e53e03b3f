/// What the host remembers of the images Slipway built, looked up by manifest digest. A
/// `rebase` step reads it to prove that nothing above the base was made by running something
/// (an image with no record was built elsewhere), and carries it over to the rebased image.
public protocol BuildRecords: Sendable {
    /// The record of the image whose manifest digest is `digest`; nil when Slipway has none.
    func record(ofImage digest: String) async throws -> BuildRecord?
}

/// One built image as recorded: each layer's origin (bottom first) and its stages' bases.
public struct BuildRecord: Sendable, Hashable {
    public var layers: [LayerOrigin]
    public var buildTimeBases: [BaseImage]

    public init(layers: [LayerOrigin], buildTimeBases: [BaseImage]) {
        self.layers = layers
        self.buildTimeBases = buildTimeBases
    }
}

public enum BuildRecordsService: HostServiceKey { public typealias Value = any BuildRecords }
