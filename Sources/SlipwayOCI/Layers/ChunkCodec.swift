/// Compresses one chunk of a layer's tar stream into a self-contained unit (a gzip member, a
/// zstd frame). Units concatenate into one valid stream: gzip readers read a series of members
/// (RFC 1952 §2.2) and zstd readers a series of frames, which is what eStargz and zstd:chunked
/// layers already rely on. Each instance holds one compressor state and is used by one thread
/// at a time.
protocol ChunkCodec: AnyObject {
    /// Names the codec, its settings and its library version: a compressed chunk is reused only
    /// under the same name, so a cached chunk is byte for byte what compressing it now would give.
    var name: String { get }

    func compress(_ chunk: UnsafeRawBufferPointer) throws -> [UInt8]

    /// Whether `unit`, read back from the cache, decodes to `chunk` as far as a cheap check can
    /// tell (gzip: the member's CRC-32 and length; zstd: decoding it). Guards against a cache
    /// entry that no longer matches its blob; it is not a defence against a hostile state directory.
    func accepts(_ unit: [UInt8], for chunk: UnsafeRawBufferPointer) -> Bool
}

extension LayerCompression {
    /// A new codec for this compression (nil for `.none`, whose chunks are written as they are).
    func makeChunkCodec() throws -> (any ChunkCodec)? {
        switch self {
        case .gzip: try GzipChunkCodec(level: GzipChunkCodec.defaultLevel)
        case .zstd: try ZstdChunkCodec(level: ZstdChunkCodec.defaultLevel)
        case .none: nil
        }
    }
}
