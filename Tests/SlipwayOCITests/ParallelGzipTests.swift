import Foundation
@testable import SlipwayOCI
import SlipwayTesting
import Testing

/// The parallel gzip writer makes one ordinary gzip stream (gzip itself reads it back) whose
/// bytes depend only on the input, never on how the input was handed over.
struct ParallelGzipTests {
    static func compress(_ data: Data, chunk: Int) throws -> Data {
        let gzip = try ParallelGzip(level: 6)
        var output = Data()
        var offset = 0
        while offset < data.count {
            let end = min(offset + chunk, data.count)
            try data[offset..<end].withUnsafeBytes { try gzip.compress($0) { output.append(contentsOf: $0) } }
            offset = end
        }
        try gzip.finish { output.append(contentsOf: $0) }
        return output
    }

    /// Text-like input (compressible, with repeats across block boundaries) plus random bytes.
    static func sample(_ size: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        var data = Data(capacity: size)
        while data.count < size {
            data.append(contentsOf: Array("line \(data.count % 977) of the layer, repeated across blocks\n".utf8))
            if data.count % 5 == 0 { data.append(contentsOf: (0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        }
        return data.prefix(size)
    }

    @Test(arguments: [0, 1, 131_071, 131_072, 131_073, 4 << 20, (4 << 20) + 12_345])
    func gzipReadsWhatWeWrite(size: Int) async throws {
        let input = Self.sample(size)
        let compressed = try Self.compress(input, chunk: 65_536)
        let file = Scratch.location("pgz")
        try compressed.write(to: file)
        let decompressed = try await Shell.data("gzip", ["-dc", file.path])
        #expect(decompressed == input)
        if size > 1 << 20 { #expect(compressed.count < input.count) }
    }

    @Test func theBytesDependOnlyOnTheInput() throws {
        let input = Self.sample((3 << 20) + 777)
        let reference = try Self.compress(input, chunk: 1 << 20)
        for chunk in [1, 4_096, 100_000, 131_072, 5 << 20] where chunk != 1 || input.count < 200_000 {
            #expect(try Self.compress(input, chunk: chunk) == reference, "chunk \(chunk)")
        }
        #expect(try Self.compress(input.prefix(300_000), chunk: 1) == (try Self.compress(input.prefix(300_000), chunk: 300_000)))
    }
}
