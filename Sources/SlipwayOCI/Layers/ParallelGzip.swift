import CZlib
import Dispatch
import Foundation

/// gzip compression spread over the machine's cores, the way pigz does it: the input is cut
/// into fixed 128 KiB blocks, each block is deflated on its own with the 32 KiB before it as
/// the dictionary and ends on a byte boundary (a sync flush), and the blocks are written in
/// order inside one gzip member with a fixed header. The output is one ordinary gzip stream.
///
/// Deterministic: the block boundaries depend only on the input (never on how it arrives, the
/// number of threads or their timing), so the same bytes always compress to the same bytes.
final class ParallelGzip {
    static let blockSize = 128 << 10
    static let dictionarySize = 32 << 10
    /// mtime 0, no name, OS unix: as zlib writes it, so layers stay reproducible.
    static let header: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]

    private let blocksPerBatch: Int
    private var streams: [UnsafeMutablePointer<z_stream>] = []
    /// Input waiting to be compressed: at most one batch.
    private var pending: [UInt8] = []
    /// The last 32 KiB of input already compressed: the next block's dictionary.
    private var tail: [UInt8] = []
    private var crc: uLong = crc32(0, nil, 0)
    private var length: UInt64 = 0
    private var wroteHeader = false

    init(level: Int32) throws {
        blocksPerBatch = max(2, ProcessInfo.processInfo.activeProcessorCount) * 4
        for _ in 0..<blocksPerBatch {
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            guard slipway_deflate_init_raw(stream, level) == Z_OK else {
                stream.deallocate()
                throw OCIError.invalidContent("cannot initialise gzip compression")
            }
            streams.append(stream)
        }
        pending.reserveCapacity(blocksPerBatch * Self.blockSize)
    }

    deinit {
        for stream in streams {
            deflateEnd(stream)
            stream.deallocate()
        }
    }

    func compress(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let batch = blocksPerBatch * Self.blockSize
        var offset = 0
        while offset < input.count {
            // A full batch is compressed only once more input arrives: the stream's last block
            // must end the deflate stream, and until then any block might be the last.
            if pending.count == batch { try flush(final: false, into: sink) }
            let take = min(batch - pending.count, input.count - offset)
            pending.append(contentsOf: input[offset..<(offset + take)])
            offset += take
        }
    }

    func finish(into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try flush(final: true, into: sink)
        var trailer = [UInt8](repeating: 0, count: 8)
        for index in 0..<4 {
            trailer[index] = UInt8(truncatingIfNeeded: UInt32(crc) >> (8 * index))
            trailer[4 + index] = UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: length) >> (8 * index))
        }
        try trailer.withUnsafeBytes { try sink($0) }
    }

    /// Compresses every pending block in parallel and writes them in order.
    private func flush(final: Bool, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        if !wroteHeader {
            try Self.header.withUnsafeBytes { try sink($0) }
            wroteHeader = true
        }
        let count = max(final ? 1 : 0, (pending.count + Self.blockSize - 1) / Self.blockSize)
        guard count > 0 else { return }
        var outputs = [[UInt8]](repeating: [], count: count)
        var crcs = [uLong](repeating: 0, count: count)
        var failures = [Int32](repeating: Z_OK, count: count)
        pending.withUnsafeBytes { input in
            tail.withUnsafeBytes { previous in
                outputs.withUnsafeMutableBufferPointer { outputs in
                    crcs.withUnsafeMutableBufferPointer { crcs in
                        failures.withUnsafeMutableBufferPointer { failures in
                            let batch = Batch(input: input, previous: previous, outputs: outputs, crcs: crcs, failures: failures, streams: streams)
                            DispatchQueue.concurrentPerform(iterations: count) { index in
                                batch.compress(block: index, last: final && index == count - 1)
                            }
                        }
                    }
                }
            }
        }
        if let failure = failures.first(where: { $0 != Z_OK }) {
            throw OCIError.invalidContent("gzip compression failed (\(failure))")
        }
        for index in 0..<count {
            try outputs[index].withUnsafeBytes { try sink($0) }
            let blockLength = min(Self.blockSize, pending.count - index * Self.blockSize)
            crc = crc32_combine(crc, crcs[index], off_t(blockLength))
        }
        length += UInt64(pending.count)
        tail = Array(pending.suffix(Self.dictionarySize))
        pending.removeAll(keepingCapacity: true)
    }

    /// The buffers of one batch, shared by the threads compressing it. Each thread reads the
    /// input and writes only its own block's slots, so nothing is written twice.
    private struct Batch: @unchecked Sendable {
        let input: UnsafeRawBufferPointer
        let previous: UnsafeRawBufferPointer
        let outputs: UnsafeMutableBufferPointer<[UInt8]>
        let crcs: UnsafeMutableBufferPointer<uLong>
        let failures: UnsafeMutableBufferPointer<Int32>
        let streams: [UnsafeMutablePointer<z_stream>]

        func compress(block index: Int, last: Bool) {
            let start = index * ParallelGzip.blockSize
            let block = UnsafeRawBufferPointer(rebasing: input[start..<min(start + ParallelGzip.blockSize, input.count)])
            let dictionary = index == 0 ? previous : UnsafeRawBufferPointer(rebasing: input[(start - ParallelGzip.dictionarySize)..<start])
            crcs[index] = crc32(0, block.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(block.count))
            (outputs[index], failures[index]) = ParallelGzip.deflateBlock(block, dictionary: dictionary, last: last, stream: streams[index])
        }
    }

    /// One block as raw deflate, ending with a sync flush (or the end of the stream).
    fileprivate static func deflateBlock(
        _ block: UnsafeRawBufferPointer, dictionary: UnsafeRawBufferPointer, last: Bool, stream: UnsafeMutablePointer<z_stream>
    ) -> ([UInt8], Int32) {
        guard deflateReset(stream) == Z_OK else { return ([], Z_STREAM_ERROR) }
        if dictionary.count > 0 {
            let suffix = UnsafeRawBufferPointer(rebasing: dictionary.suffix(dictionarySize))
            guard deflateSetDictionary(stream, suffix.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(suffix.count)) == Z_OK else {
                return ([], Z_STREAM_ERROR)
            }
        }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(block.count))) + 64)
        let status = output.withUnsafeMutableBytes { buffer -> Int32 in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: block.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(block.count)
            stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(buffer.count)
            return deflate(stream, last ? Z_FINISH : Z_SYNC_FLUSH)
        }
        let expected = last ? Z_STREAM_END : Z_OK
        guard status == expected, stream.pointee.avail_in == 0 else { return ([], status == expected ? Z_BUF_ERROR : status) }
        output.removeLast(Int(stream.pointee.avail_out))
        return (output, Z_OK)
    }
}
