import CZlib
import CZstd

/// Compresses a byte stream incrementally (gzip through zlib on every core, zstd through
/// libzstd), handing compressed output to a sink. Deterministic: same input and settings, same bytes.
final class StreamCompressor {
    private enum Engine {
        case gzip(ParallelGzip)
        case zstd(OpaquePointer)
        case none
    }

    private var engine: Engine
    private var output = [UInt8](repeating: 0, count: 256 << 10)

    init(_ compression: LayerCompression, level: Int32? = nil) throws {
        switch compression {
        case .none:
            engine = .none
        case .gzip:
            engine = .gzip(try ParallelGzip(level: level ?? Z_DEFAULT_COMPRESSION))
        case .zstd:
            guard let context = ZSTD_createCCtx() else { throw OCIError.invalidContent("cannot initialise zstd compression") }
            _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level ?? 3)
            engine = .zstd(context)
        }
    }

    deinit {
        switch engine {
        case .gzip: break
        case .zstd(let context): ZSTD_freeCCtx(context)
        case .none: break
        }
    }

    func compress(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try run(input, finishing: false, into: sink)
    }

    func finish(into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try run(UnsafeRawBufferPointer(start: nil, count: 0), finishing: true, into: sink)
    }

    private func run(_ input: UnsafeRawBufferPointer, finishing: Bool, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let outputCount = output.count
        switch engine {
        case .none:
            if input.count > 0 { try sink(input) }
        case .gzip(let gzip):
            if finishing { try gzip.finish(into: sink) } else { try gzip.compress(input, into: sink) }
        case .zstd(let context):
            var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
            while true {
                let (remaining, produced) = output.withUnsafeMutableBytes { buffer -> (Int, Int) in
                    var outBuffer = ZSTD_outBuffer(dst: buffer.baseAddress, size: outputCount, pos: 0)
                    let remaining = ZSTD_compressStream2(context, &outBuffer, &inBuffer, finishing ? ZSTD_e_end : ZSTD_e_continue)
                    return (remaining, outBuffer.pos)
                }
                guard ZSTD_isError(remaining) == 0 else {
                    throw OCIError.invalidContent("zstd compression failed: \(String(cString: ZSTD_getErrorName(remaining)))")
                }
                if produced > 0 { try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
                if finishing ? remaining == 0 : (inBuffer.pos == inBuffer.size && produced < outputCount) { break }
            }
        }
    }
}
