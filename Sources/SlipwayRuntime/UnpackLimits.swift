public import SlipwayOCI

/// How much unpacking images may take: per layer, per image, and what must stay free on the
/// disk. Decompression bombs (a few MB that inflate to many GB) stop at the first cap reached.
public struct UnpackLimits: Sendable, Hashable {
    /// The most one layer may unpack to (its uncompressed tar stream).
    public var maxLayerBytes: Int64
    /// The most all layers of one image may unpack to.
    public var maxImageBytes: Int64
    /// Bytes unpacking leaves free on the disk of the state directory.
    public var freeSpaceReserve: Int64

    public static let defaultMaxImageBytes: Int64 = 64 << 30

    public init(
        maxLayerBytes: Int64 = LayerExtractor.Limits.defaultMaxBytes, maxImageBytes: Int64 = UnpackLimits.defaultMaxImageBytes,
        freeSpaceReserve: Int64 = LayerExtractor.Limits.defaultFreeSpaceReserve
    ) {
        self.maxLayerBytes = maxLayerBytes
        self.maxImageBytes = maxImageBytes
        self.freeSpaceReserve = freeSpaceReserve
    }
}
