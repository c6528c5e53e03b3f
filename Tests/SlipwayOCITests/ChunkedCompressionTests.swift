import Foundation
@testable import SlipwayOCI
import SlipwayTesting
import Testing

/// Layers are compressed chunk by chunk (one gzip member or zstd frame per chunk): gzip and zstd
/// read the result back as one stream, the bytes depend only on the input, and a layer made
/// with chunks copied from an earlier one is byte for byte the layer a cold build makes.
struct ChunkedCompressionTests {
    /// Feeds `data` in `read`-sized pieces, with no entry hints (cuts at the hard limit only).
    static func compress(_ data: Data, read: Int, compression: LayerCompression = .gzip) throws -> Data {
        let output = Collected()
        let compressor = try ChunkedCompressor(makeCodec: { try compression.makeChunkCodec()! }, cache: nil) { output.data.append(contentsOf: $0) }
        var offset = 0
        while offset < data.count {
            let end = min(offset + read, data.count)
            try data[offset..<end].withUnsafeBytes { try compressor.compress($0) }
            offset = end
        }
        try compressor.finish()
        return output.data
    }

    /// Text-like input (compressible, with repeats across chunk boundaries) plus random bytes.
    static func sample(_ size: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        var data = Data(capacity: size)
        while data.count < size {
            data.append(contentsOf: Array("line \(data.count % 977) of the layer, repeated across chunks\n".utf8))
            if data.count % 5 == 0 { data.append(contentsOf: (0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        }
        return data.prefix(size)
    }

    @Test(arguments: [(0, LayerCompression.gzip), (1, .gzip), (4 << 20, .gzip), (9 << 20 + 12_345, .gzip), (0, .zstd), (9 << 20 + 7, .zstd)])
    func gzipAndZstdReadWhatWeWrite(size: Int, compression: LayerCompression) async throws {
        let input = Self.sample(size)
        let compressed = try Self.compress(input, read: 65_536, compression: compression)
        let file = Scratch.location("chunked")
        try compressed.write(to: file)
        let decompressed = try await Shell.data(compression == .gzip ? "gzip" : "zstd", ["-dc", file.path])
        #expect(decompressed == input)
        if size > 1 << 20 { #expect(compressed.count < input.count) }
    }

    @Test func theBytesDependOnlyOnTheInput() throws {
        let input = Self.sample((9 << 20) + 777)
        let reference = try Self.compress(input, read: 1 << 20)
        for read in [4_096, 100_000, 5 << 20] {
            #expect(try Self.compress(input, read: read) == reference, "reads of \(read) bytes")
        }
        #expect(try Self.compress(input.prefix(300_000), read: 1) == (try Self.compress(input.prefix(300_000), read: 300_000)))
    }

    /// A sink that fails (a full disk) stops the pipeline with its error, however far the
    /// batches behind it got.
    @Test func aFailingSinkStopsTheCompressorWithItsError() throws {
        struct DiskFull: Error {}
        let input = Self.sample(20 << 20)
        let compressor = try ChunkedCompressor(makeCodec: { try LayerCompression.gzip.makeChunkCodec()! }, cache: nil) { _ in throw DiskFull() }
        #expect(throws: DiskFull.self) {
            try input.withUnsafeBytes { try compressor.compress($0) }
            try compressor.finish()
        }
    }

    /// 40 files of 100 kB and 3 of 1.5 MB; `changed` rewrites one of them.
    static func tree(at root: URL, changing changed: String? = nil) throws -> URL {
        try FileManager.default.createDirectory(at: root.appendingPathComponent("app"), withIntermediateDirectories: true)
        var generator = SeededGenerator(seed: 42)
        for index in 0..<43 {
            let name = index < 40 ? "file\(index).txt" : "large\(index).bin"
            // Letters A–P from the generator's words, eight at a time (fast even in debug builds).
            var bytes = [UInt8](repeating: 0, count: index < 40 ? 100_000 : 1_500_000)
            for start in stride(from: 0, to: bytes.count, by: 8) {
                var word = generator.next()
                for offset in start..<min(start + 8, bytes.count) {
                    bytes[offset] = 0x41 + UInt8(word & 0x0F)
                    word >>= 8
                }
            }
            if name == changed { bytes[bytes.count / 2] = 0x5A }
            try Data(bytes).write(to: root.appendingPathComponent("app/\(name)"))
        }
        return root
    }

    @Test(arguments: ["file17.txt", "large41.bin"])
    func anIncrementalLayerIsTheColdLayerAndCompressesOnlyWhatChanged(changed: String) throws {
        let store = try Scratch.store("incremental")
        let writer = LayerWriter(options: .init(compression: .gzip))
        let before = try writer.write(DirectoryScanner.entries(of: Self.tree(at: Scratch.location("before"))), into: store)
        #expect(before.reusedChunks == 0 && before.compressedChunks > 5)

        let after = try writer.write(DirectoryScanner.entries(of: Self.tree(at: Scratch.location("after"), changing: changed)), into: store)
        #expect(after.descriptor.digest != before.descriptor.digest)
        #expect(after.compressedChunks == 1, "only the changed file's chunk is compressed again")
        #expect(after.reusedChunks == before.compressedChunks - 1)

        let cold = try LayerWriter(options: .init(compression: .gzip, reuseChunks: false))
            .write(DirectoryScanner.entries(of: Self.tree(at: Scratch.location("cold"), changing: changed)), into: try Scratch.store("cold"))
        #expect(cold == LayerWriter.Written(descriptor: after.descriptor, diffID: after.diffID, uncompressedSize: after.uncompressedSize,
                                            reusedChunks: 0, compressedChunks: before.compressedChunks))
        let again = try writer.write(DirectoryScanner.entries(of: Self.tree(at: Scratch.location("again"), changing: changed)), into: store)
        #expect(again.descriptor == after.descriptor && again.compressedChunks == 0)
    }

    /// A cache entry that points at the wrong bytes (here: every entry shifted by one byte) is
    /// not used; the layer is still the cold one.
    @Test func aCacheEntryThatNoLongerMatchesItsBlobIsIgnored() throws {
        let store = try Scratch.store("stale")
        let writer = LayerWriter(options: .init(compression: .gzip))
        let first = try writer.write(DirectoryScanner.entries(of: Self.tree(at: Scratch.location("first"))), into: store)
        let folder = StateDirectory(of: store).compressedChunks
        let entries = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)!.compactMap { $0 as? URL }.filter { !$0.hasDirectoryPath }
        #expect(entries.count == first.compressedChunks)
        for entry in entries {
            let fields = try String(contentsOf: entry, encoding: .utf8).split(separator: " ")
            try Data("\(fields[0]) \(Int(fields[1])! + 1) \(fields[2])".utf8).write(to: entry)
        }
        let second = try writer.write(DirectoryScanner.entries(of: Self.tree(at: Scratch.location("second"))), into: store)
        #expect(second.descriptor == first.descriptor && second.diffID == first.diffID)
        #expect(second.reusedChunks == 0)
    }

    /// Garbage collection drops the entries of the blobs it removes.
    @Test func garbageCollectionForgetsTheChunksOfRemovedLayers() throws {
        let store = try Scratch.store("gc")
        let written = try LayerWriter(options: .init(compression: .gzip)).write(DirectoryScanner.entries(of: Self.tree(at: Scratch.location("gc-tree"))), into: store)
        let folder = StateDirectory(of: store).compressedChunks
        func entries() -> Int { FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL }.filter { !$0.hasDirectoryPath }.count ?? 0 }
        #expect(entries() == written.compressedChunks)
        let report = try store.collectGarbage(gracePeriod: 0)
        #expect(report.removedBlobs == 1)
        #expect(entries() == 0)
    }
}

/// What the compressor wrote (from whichever thread wrote it; one at a time).
final class Collected: @unchecked Sendable {
    var data = Data()
}

/// A small deterministic generator (SplitMix64), so the trees are the same in every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
