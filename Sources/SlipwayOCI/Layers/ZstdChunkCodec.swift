import CZstd
import Glibc

/// One chunk as one zstd frame with its content size in the header.
final class ZstdChunkCodec: ChunkCodec {
    static let defaultLevel: Int32 = 3

    let name: String
    private let context: OpaquePointer
    private let decoder: OpaquePointer

    init(level: Int32) throws {
        guard let context = ZSTD_createCCtx() else { throw OCIError.invalidContent("cannot initialise zstd compression") }
        guard let decoder = ZSTD_createDCtx() else {
            ZSTD_freeCCtx(context)
            throw OCIError.invalidContent("cannot initialise zstd decompression")
        }
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        (self.context, self.decoder) = (context, decoder)
        name = "zstd-\(level)-libzstd-\(String(cString: ZSTD_versionString()))"
    }

    deinit {
        ZSTD_freeCCtx(context)
        ZSTD_freeDCtx(decoder)
    }

    func compress(_ chunk: UnsafeRawBufferPointer) throws -> [UInt8] {
        let bound = ZSTD_compressBound(chunk.count)
        var written = 0
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            written = ZSTD_compress2(context, buffer.baseAddress, bound, chunk.baseAddress, chunk.count)
            count = ZSTD_isError(written) == 0 ? written : 0
        }
        guard ZSTD_isError(written) == 0 else {
            throw OCIError.invalidContent("zstd compression failed: \(String(cString: ZSTD_getErrorName(written)))")
        }
        return output
    }

    /// zstd frames carry no checksum unless asked, so a cached frame is decoded and compared.
    func accepts(_ unit: [UInt8], for chunk: UnsafeRawBufferPointer) -> Bool {
        var decoded = [UInt8](repeating: 0, count: max(chunk.count, 1))
        let count = decoded.withUnsafeMutableBytes { output in
            unit.withUnsafeBytes { ZSTD_decompressDCtx(decoder, output.baseAddress, output.count, $0.baseAddress, $0.count) }
        }
        guard ZSTD_isError(count) == 0, count == chunk.count else { return false }
        return count == 0 || decoded.withUnsafeBytes { memcmp($0.baseAddress!, chunk.baseAddress!, count) == 0 }
    }
}
