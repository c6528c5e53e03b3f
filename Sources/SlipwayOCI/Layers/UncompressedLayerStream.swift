import CArchive
import Foundation
import Glibc
import SlipwayKernel

/// The uncompressed bytes of a layer file (gzip, zstd, xz, bzip2 or plain), as a libarchive read
/// callback: the tar reader pulls from it, and every byte it hands over is counted and hashed,
/// so extraction and diffID verification are one pass over the file. It also stops a
/// decompression bomb at the byte cap, before the tar reader sees past it, and keeps an eye on
/// the free space of the disk being written to.
final class UncompressedLayerStream {
    private let raw: OpaquePointer
    private var buffer: UnsafeMutableRawPointer
    private static let bufferSize = 1 << 20
    private(set) var hasher: DigestHasher
    private let limit: Int64
    private let space: FreeSpaceCheck?
    private var nextSpaceCheck: Int64 = 0
    /// Why the stream stopped early; the extractor reports it instead of libarchive's message.
    private(set) var failure: String?
    /// Whether it stopped because the stream passed `limit`.
    private(set) var exceededLimit = false

    var count: Int64 { hasher.count }

    init(file: URL, algorithm: Digest.Algorithm, limit: Int64, space: FreeSpaceCheck?) throws {
        guard let raw = archive_read_new() else { throw OCIError.invalidContent("cannot create a reader") }
        archive_read_support_filter_all(raw)
        archive_read_support_format_raw(raw)
        guard archive_read_open_filename(raw, file.path, 1 << 20) == ARCHIVE_OK else {
            let message = LayerWriter.message(raw)
            archive_read_free(raw)
            throw OCIError.invalidContent("\(file.lastPathComponent): \(message)")
        }
        var entry: OpaquePointer?
        let status = archive_read_next_header(raw, &entry)
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN else {
            let message = LayerWriter.message(raw)
            archive_read_free(raw)
            throw OCIError.invalidContent("\(file.lastPathComponent): \(message)")
        }
        self.raw = raw
        buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 16)
        hasher = DigestHasher(algorithm)
        self.limit = limit
        self.space = space
    }

    deinit {
        archive_read_free(raw)
        buffer.deallocate()
    }

    /// The next block of uncompressed bytes: its length, 0 at the end, -1 on failure.
    func next(_ block: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        guard failure == nil else { return -1 }
        let read = archive_read_data(raw, buffer, Self.bufferSize)
        guard read >= 0 else {
            failure = LayerWriter.message(raw)
            return -1
        }
        hasher.update(UnsafeRawBufferPointer(start: buffer, count: read))
        if hasher.count > limit {
            exceededLimit = true
            failure = "it unpacks to more than \(ByteCountText.describe(limit))"
            return -1
        }
        if let space, hasher.count >= nextSpaceCheck {
            nextSpaceCheck = hasher.count + (64 << 20)
            if let problem = space.problem() {
                failure = problem
                return -1
            }
        }
        block.pointee = UnsafeRawPointer(buffer)
        return read
    }

    /// Reads what the tar reader left (the zero blocks after the end marker), so the digest
    /// covers the whole stream. Returns false when that fails or passes the limit.
    func drain() -> Bool {
        var block: UnsafeRawPointer?
        while true {
            let read = next(&block)
            if read == 0 { return true }
            if read < 0 { return false }
        }
    }

    /// Opens `reader` (a tar reader) on this stream. The stream must outlive the reader's use.
    func open(_ reader: OpaquePointer) -> Int32 {
        archive_read_open(reader, Unmanaged.passUnretained(self).toOpaque(), nil, { _, context, block in
            guard let context, let block else { return -1 }
            return la_ssize_t(Unmanaged<UncompressedLayerStream>.fromOpaque(context).takeUnretainedValue().next(block))
        }, nil)
    }
}
