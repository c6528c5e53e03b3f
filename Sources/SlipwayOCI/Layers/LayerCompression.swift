/// How a layer blob is compressed.
public enum LayerCompression: String, Sendable, CaseIterable, Codable {
    case gzip, zstd, none

    public var mediaType: String {
        switch self {
        case .gzip: MediaType.ociLayerGzip
        case .zstd: MediaType.ociLayerZstd
        case .none: MediaType.ociLayer
        }
    }
}
