public import SlipwayOCI
import SlipwayKernel

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

    /// What one layer may unpack to once `used` bytes of its image are unpacked: the per-layer
    /// cap, or less when the image's cap leaves less room (then `imageCapBinds`), so the layer
    /// that would pass the image's cap is stopped while it unpacks.
    public func extraction(after used: Int64, allowDevices: Bool) -> (limits: LayerExtractor.Limits, imageCapBinds: Bool) {
        let room = maxImageBytes - used
        let limits = LayerExtractor.Limits(
            maxTotalBytes: max(0, min(maxLayerBytes, room)), allowDevices: allowDevices, freeSpaceReserve: freeSpaceReserve)
        return (limits, room < maxLayerBytes)
    }

    /// Why an image was refused for its size.
    public var imageCapMessage: String {
        "the image unpacks to more than \(ByteCountText.describe(maxImageBytes)), the limit for one image; refusing it"
    }
}
