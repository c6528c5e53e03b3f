import Foundation
import NIOCore

/// A file's bytes (or a range of them) as an async sequence of buffers, read lazily, so uploads
/// of any size use constant memory.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let url: URL
    let offset: Int64
    let length: Int64
    let chunkSize: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        var remaining: Int64
        let chunkSize: Int

        mutating func next() async throws -> ByteBuffer? {
            guard remaining > 0, let handle else {
                try? handle?.close()
                return nil
            }
            let data = try handle.read(upToCount: Int(Swift.min(Int64(chunkSize), remaining))) ?? Data()
            guard !data.isEmpty else { throw OCIError.invalidContent("file ended early while uploading") }
            remaining -= Int64(data.count)
            return ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        let handle = try? FileHandle(forReadingFrom: url)
        try? handle?.seek(toOffset: UInt64(offset))
        return AsyncIterator(handle: handle, remaining: handle == nil ? 0 : length, chunkSize: chunkSize)
    }
}
