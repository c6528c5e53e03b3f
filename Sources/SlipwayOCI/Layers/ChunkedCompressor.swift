import Dispatch
import Foundation

/// Compresses a layer's tar stream chunk by chunk: the stream is cut where ``LayerChunking``
/// says, each chunk becomes one self-contained unit (``ChunkCodec``), and the units are written
/// in order, making one ordinary gzip (or zstd) stream. Chunks are compressed in parallel, a
/// batch at a time on Dispatch's threads while the caller prepares the next batch, and a chunk whose uncompressed bytes were compressed before is copied from
/// the layer blob that holds it (``CompressedChunkCache``) instead of being compressed again.
///
/// The output is a pure function of the tar stream and the entry hints: the cuts never depend on
/// thread count, batch size, read sizes or the cache, so a cold build and an incremental one
/// write the same bytes.
final class ChunkedCompressor {
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
    /// Emptied chunk buffers of finished batches: fresh memory costs a page fault per 4 KiB.
    private var spare: [[UInt8]] = []
    /// The uncompressed stream's digest (the layer's diffID), updated by each batch in order.
    private let diffID = StreamDigest()
    private var insideLargeEntry = false
    private var written: Int64 = 0
    private(set) var placements: [Placement] = []
    /// Chunks reused from the cache and compressed anew, for the build log and tests.
    private(set) var reused = 0
    private(set) var compressed = 0

    /// - Parameters:
    ///   - makeCodec: called once per worker.
    ///   - cache: where earlier chunks are found; nil compresses everything.
    init(makeCodec: () throws -> any ChunkCodec, cache: ((String) -> CompressedChunkCache)?, chunking: LayerChunking = .standard) throws {
        // Two chunks per core keep every core busy while the batch's slowest chunk finishes.
        let workers = max(2, ProcessInfo.processInfo.activeProcessorCount) * 2
        codecs = try (0..<workers).map { _ in try makeCodec() }
        self.cache = cache?(codecs[0].name)
        self.chunking = chunking
        current.reserveCapacity(chunking.pieceSize * 2)
    }

    /// An entry with `contentSize` bytes of content is about to be written.
    func entryWillStart(contentSize: Int64, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        if chunking.isLarge(contentSize: contentSize) {
            try cut(into: sink)
            insideLargeEntry = true
        }
    }

    /// The entry at `path` has been written whole (header, content, padding).
    func entryDidEnd(path: String, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        if insideLargeEntry || chunking.endsGroup(after: path, pending: current.count) { try cut(into: sink) }
        insideLargeEntry = false
    }

    func compress(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var offset = 0
        while offset < input.count {
            let limit = insideLargeEntry ? chunking.pieceSize : chunking.hardLimit
            let take = min(input.count - offset, limit - current.count)
            current.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset..<(offset + take)]))
            offset += take
            if current.count == limit { try cut(into: sink) }
        }
    }

    func finish(into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        // An empty stream is still one valid (empty) unit.
        if placements.isEmpty && inFlight == nil && ready.isEmpty && current.isEmpty { ready.append([]) }
        try cut(into: sink)
        try flush(into: sink)
        try collect(into: sink)
    }

    /// Records every chunk of the committed blob in the cache (moving entries that pointed at an
    /// older blob, which garbage collection may remove first).
    func remember(in blob: Digest) {
        guard let cache else { return }
        for placement in placements {
            let location = CompressedChunkCache.Location(blob: blob, offset: placement.offset, length: placement.length)
            if placement.cached != location { cache.save(location, for: placement.key) }
        }
    }

    private func cut(into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !current.isEmpty else { return }
        ready.append(current)
        current = spare.popLast() ?? []
        if ready.count == codecs.count { try flush(into: sink) }
    }

    /// The digest of every byte compressed, once `finish` has returned.
    func uncompressedDigest() -> (digest: Digest, count: Int64) { (diffID.hasher.finalize(), diffID.hasher.count) }

    /// Hands the ready chunks to the workers and returns at once, so that the caller reads and
    /// hashes the next batch while this one compresses; the batch before is written first.
    private func flush(into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try collect(into: sink)
        guard !ready.isEmpty else { return }
        let batch = Batch(chunks: ready, codecs: codecs, cache: cache, diffID: diffID)
        ready = []
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global(qos: .userInitiated).async {
            // One more job than chunks: the diffID, hashed in order beside the compression.
            DispatchQueue.concurrentPerform(iterations: batch.chunks.count + 1) { batch.run($0) }
            group.leave()
        }
        inFlight = (batch, group)
    }

    /// Waits for the batch in flight and writes its units in order.
    private func collect(into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let (batch, group) = inFlight else { return }
        inFlight = nil
        group.wait()
        for result in batch.results {
            let unit = try result.get()
            try unit.bytes.withUnsafeBytes { try sink($0) }
            placements.append(Placement(key: unit.key, offset: written, length: unit.bytes.count, cached: unit.cached))
            written += Int64(unit.bytes.count)
            if unit.cached == nil { compressed += 1 } else { reused += 1 }
        }
        var chunks = batch.takeChunks()
        while spare.count < codecs.count * 2, var chunk = chunks.popLast() {
            chunk.removeAll(keepingCapacity: true)
            spare.append(chunk)
        }
    }

    private var inFlight: (Batch, DispatchGroup)?

    /// A digest of the uncompressed stream, shared with one batch at a time.
    private final class StreamDigest: @unchecked Sendable {
        var hasher = DigestHasher()
    }

    private struct Unit {
        var key: Digest
        var bytes: [UInt8]
        var cached: CompressedChunkCache.Location?
    }

    /// One batch, shared by the threads working on it: each thread reads its own chunk, uses its
    /// own codec and writes only its own result slot; the owner reads the results only after
    /// the group has been left.
    private final class Batch: @unchecked Sendable {
        private(set) var chunks: [[UInt8]]
        let codecs: [any ChunkCodec]
        let cache: CompressedChunkCache?
        let diffID: StreamDigest
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

        var results: UnsafeMutableBufferPointer<Result<Unit, any Error>> { slots }

        /// The chunk buffers, for reuse, once the batch is done.
        func takeChunks() -> [[UInt8]] {
            defer { chunks = [] }
            return chunks
        }

        func run(_ index: Int) {
            guard index < chunks.count else {
                for chunk in chunks { chunk.withUnsafeBytes { diffID.hasher.update($0) } }
                return
            }
            slots[index] = Result {
                try chunks[index].withUnsafeBytes { chunk in
                    var hasher = DigestHasher()
                    hasher.update(chunk)
                    let key = hasher.finalize()
                    let codec = codecs[index]
                    if let found = cache?.lookup(key), codec.accepts(found.bytes, for: chunk) {
                        return Unit(key: key, bytes: found.bytes, cached: found.location)
                    }
                    return Unit(key: key, bytes: try codec.compress(chunk), cached: nil)
                }
            }
        }
    }
}
