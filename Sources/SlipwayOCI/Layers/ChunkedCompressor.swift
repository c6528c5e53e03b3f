import Dispatch
import Foundation

/// Compresses a layer's tar stream chunk by chunk: the stream is cut where ``LayerChunking``
/// says, each chunk becomes one self-contained unit (``ChunkCodec``), and the units are written
/// in order, making one ordinary gzip (or zstd) stream. The work is a pipeline on Dispatch's
/// threads: while the caller cuts the next batch, the current one is hashed and compressed and
/// the one before is written. A chunk whose uncompressed bytes were compressed before is copied
/// from the layer blob that holds it (``CompressedChunkCache``) instead of being compressed again.
///
/// The output is a pure function of the tar stream and the entry hints: the cuts never depend on
/// thread count, batch size, read sizes or the cache, so a cold build and an incremental one
/// write the same bytes.
final class ChunkedCompressor {
    typealias Sink = (UnsafeRawBufferPointer) throws -> Void

    /// Where one chunk went in the blob being written, and where the cache had it.
    struct Placement {
        var key: Digest
        var offset: Int64
        var length: Int
        var cached: CompressedChunkCache.Location?
    }

    private let codecs: [any ChunkCodec]
    private let cache: CompressedChunkCache?
    private let chunking: LayerChunking
    private var current: [UInt8] = []
    private var ready: [[UInt8]] = []
    private var insideLargeEntry = false
    /// Emptied chunk buffers of finished batches: fresh memory costs a page fault per 4 KiB.
    private var spare: [[UInt8]] = []
    /// The uncompressed stream's digest (the layer's diffID), updated by each batch in order.
    private let diffID = StreamDigest()
    /// What has been written; touched by one batch's writing at a time.
    private let output: Output
    private var inFlight: (batch: Batch, group: DispatchGroup)?
    /// Where the previous batch's units are written while the next compresses.
    private let writer = DispatchQueue(label: "slipway.layer-writer")

    var placements: [Placement] { output.placements }
    /// Chunks reused from the cache and compressed anew, for the build log and tests.
    var reused: Int { output.reused }
    var compressed: Int { output.compressed }

    /// - Parameters:
    ///   - makeCodec: called once per worker.
    ///   - cache: where earlier chunks are found; nil compresses everything.
    ///   - sink: receives the compressed stream, in order, on one thread at a time (not
    ///     necessarily the caller's).
    init(
        makeCodec: () throws -> any ChunkCodec, cache: ((String) -> CompressedChunkCache)?, chunking: LayerChunking = .standard,
        sink: @escaping Sink
    ) throws {
        // Two chunks per core keep every core busy while the batch's slowest chunk finishes.
        let workers = max(2, ProcessInfo.processInfo.activeProcessorCount) * 2
        codecs = try (0..<workers).map { _ in try makeCodec() }
        self.cache = cache?(codecs[0].name)
        self.chunking = chunking
        output = Output(sink: sink)
    }

    /// An entry with `contentSize` bytes of content is about to be written.
    func entryWillStart(contentSize: Int64) throws {
        if chunking.isLarge(contentSize: contentSize) {
            try cut()
            insideLargeEntry = true
        }
    }

    /// The entry at `path` has been written whole (header, content, padding).
    func entryDidEnd(path: String) throws {
        if insideLargeEntry || chunking.endsGroup(after: path, pending: current.count) { try cut() }
        insideLargeEntry = false
    }

    func compress(_ input: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < input.count {
            let limit = insideLargeEntry ? chunking.pieceSize : chunking.hardLimit
            let take = min(input.count - offset, limit - current.count)
            current.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset..<(offset + take)]))
            offset += take
            if current.count == limit { try cut() }
        }
    }

    /// Compresses what is left and writes everything still pending.
    func finish() throws {
        // An empty stream is still one valid (empty) unit.
        if output.placements.isEmpty && inFlight == nil && ready.isEmpty && current.isEmpty { ready.append([]) }
        try cut()
        try flush()
        if let (batch, group) = inFlight {
            inFlight = nil
            group.wait()
            batch.write(to: output)
        }
        if let failure = output.failure { throw failure }
    }

    /// The digest of every byte compressed, once `finish` has returned.
    func uncompressedDigest() -> (digest: Digest, count: Int64) { (diffID.hasher.finalize(), diffID.hasher.count) }

    /// Records every chunk of the committed blob in the cache (moving entries that pointed at an
    /// older blob, which garbage collection may remove first).
    func remember(in blob: Digest) {
        guard let cache else { return }
        for placement in output.placements {
            let location = CompressedChunkCache.Location(blob: blob, offset: placement.offset, length: placement.length)
            if placement.cached != location { cache.save(location, for: placement.key) }
        }
    }

    private func cut() throws {
        guard !current.isEmpty else { return }
        ready.append(current)
        current = spare.popLast() ?? []
        if ready.count == codecs.count { try flush() }
    }

    /// Hands the ready chunks to the workers and returns at once, so that the caller reads the
    /// next batch while this one is hashed and compressed and the one before is written.
    private func flush() throws {
        var previous: Batch?
        if let (batch, group) = inFlight {
            inFlight = nil
            group.wait()
            if let failure = output.failure { throw failure }
            recycle(batch.takeChunks())
            previous = batch
        }
        guard !ready.isEmpty else {
            previous?.write(to: output)
            return
        }
        let batch = Batch(chunks: ready, codecs: codecs, cache: cache, diffID: diffID)
        ready = []
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global(qos: .userInitiated).async {
            DispatchQueue.concurrentPerform(iterations: batch.jobs) { batch.run($0) }
            group.leave()
        }
        // Writing may wait (on the disk, or on a streamed upload's network): on a queue of its
        // own, which Dispatch gives a thread at once, never in the pool the compression uses
        // (there a waiting job holds back everything queued behind it until Dispatch notices).
        if let previous {
            group.enter()
            let output = self.output
            writer.async {
                previous.write(to: output)
                group.leave()
            }
        }
        inFlight = (batch, group)
    }

    private func recycle(_ chunks: [[UInt8]]) {
        var chunks = chunks
        while spare.count < codecs.count * 2, var chunk = chunks.popLast() {
            chunk.removeAll(keepingCapacity: true)
            spare.append(chunk)
        }
    }

    private struct Unit {
        var key: Digest
        var bytes: [UInt8]
        var cached: CompressedChunkCache.Location?
    }

    /// A digest of the uncompressed stream, shared with one batch at a time.
    private final class StreamDigest: @unchecked Sendable {
        var hasher = DigestHasher()
    }

    /// The compressed stream's bookkeeping: only one batch's writing job (or, at the end, the
    /// owner) touches it at a time, and the owner reads it only after waiting for that batch.
    private final class Output: @unchecked Sendable {
        let sink: Sink
        var placements: [Placement] = []
        var written: Int64 = 0
        var reused = 0
        var compressed = 0
        var failure: (any Error)?

        init(sink: @escaping Sink) { self.sink = sink }
    }

    /// One batch, shared by the threads working on it. Its jobs: one per chunk (find it in the
    /// cache or compress it, into its own slot, with its own codec) and one hashing the chunks in
    /// order for the diffID. Its units are written once they are all done.
    private final class Batch: @unchecked Sendable {
        private(set) var chunks: [[UInt8]]
        private let codecs: [any ChunkCodec]
        private let cache: CompressedChunkCache?
        private let diffID: StreamDigest
        private let slots: UnsafeMutableBufferPointer<Result<Unit, any Error>>

        init(chunks: [[UInt8]], codecs: [any ChunkCodec], cache: CompressedChunkCache?, diffID: StreamDigest) {
            (self.chunks, self.codecs, self.cache, self.diffID) = (chunks, codecs, cache, diffID)
            slots = .allocate(capacity: chunks.count)
            slots.initialize(repeating: .failure(CancellationError()))
        }

        deinit {
            slots.deinitialize()
            slots.deallocate()
        }

        var jobs: Int { chunks.count + 1 }

        /// The chunk buffers, for reuse, once the batch is done.
        func takeChunks() -> [[UInt8]] {
            defer { chunks = [] }
            return chunks
        }

        func run(_ index: Int) {
            if index == chunks.count {
                for chunk in chunks { chunk.withUnsafeBytes { diffID.hasher.update($0) } }
            } else {
                slots[index] = Result { try chunks[index].withUnsafeBytes { try unit(of: $0, codec: codecs[index]) } }
            }
        }

        /// The chunk's unit: from the cache when an earlier layer has it, else compressed now.
        private func unit(of chunk: UnsafeRawBufferPointer, codec: any ChunkCodec) throws -> Unit {
            var hasher = DigestHasher()
            hasher.update(chunk)
            let key = hasher.finalize()
            if let found = cache?.lookup(key), codec.accepts(found.bytes, for: chunk) {
                return Unit(key: key, bytes: found.bytes, cached: found.location)
            }
            return Unit(key: key, bytes: try codec.compress(chunk), cached: nil)
        }

        /// Writes this batch's units, in order, unless an earlier write failed.
        func write(to output: Output) {
            for slot in slots where output.failure == nil {
                do {
                    let unit = try slot.get()
                    try unit.bytes.withUnsafeBytes { try output.sink($0) }
                    output.placements.append(Placement(key: unit.key, offset: output.written, length: unit.bytes.count, cached: unit.cached))
                    output.written += Int64(unit.bytes.count)
                    if unit.cached == nil { output.compressed += 1 } else { output.reused += 1 }
                } catch {
                    output.failure = error
                }
            }
        }
    }
}
