import CArchive
import Foundation
import Glibc

/// Writes layers into a content store in one streaming pass: libarchive formats the tar (PAX,
/// only the headers needed), the uncompressed stream is hashed for the diffID while it is
/// compressed chunk by chunk (``ChunkedCompressor``: unchanged chunks are copied from earlier
/// layers), and the compressed bytes go straight into a blob writer, which hashes them for the
/// blob digest. Memory use does not depend on layer size.
///
/// Reproducible by default: entries sorted by path, mtimes clamped to `epoch`, owners
/// normalised to 0 unless kept, no atime/ctime, fixed gzip headers, and chunk cuts that depend
/// only on the entries.
public struct LayerWriter: Sendable {
    public struct Options: Sendable, Hashable {
        public var compression: LayerCompression
        /// Later mtimes become this (`SOURCE_DATE_EPOCH`, a commit time, or 0).
        public var epoch: Int64
        /// Keep each entry's uid/gid instead of writing 0.
        public var keepOwnership: Bool
        /// Copy chunks compressed by earlier layers instead of compressing them again. The bytes
        /// are the same either way; off, every chunk is compressed (the tests' cold path).
        public var reuseChunks: Bool

        public init(compression: LayerCompression = .gzip, epoch: Int64 = 0, keepOwnership: Bool = false, reuseChunks: Bool = true) {
            self.compression = compression
            self.epoch = epoch
            self.keepOwnership = keepOwnership
            self.reuseChunks = reuseChunks
        }
    }

    /// What was written.
    public struct Written: Sendable, Hashable {
        /// The compressed blob.
        public var descriptor: Descriptor
        /// Digest of the uncompressed tar (the config's `rootfs.diff_ids` entry).
        public var diffID: Digest
        public var uncompressedSize: Int64
        /// Chunks copied from earlier layers and chunks compressed now (see ``ChunkedCompressor``).
        public var reusedChunks: Int = 0
        public var compressedChunks: Int = 0
    }

    public let options: Options

    public init(options: Options = Options()) { self.options = options }

    /// Writes `entries` (sorted here) as one layer into `store`.
    /// - Parameters:
    ///   - progress: told after each entry the content bytes written so far and the total of the
    ///     entries' contents.
    ///   - tee: also given every byte of the blob, in order, as it is written (a
    ///     ``StreamedUpload``'s `send`).
    /// - Throws: ``OCIError`` naming the entry that could not be written.
    public func write(
        _ entries: [LayerEntry], into store: ContentStore, progress: ((_ written: Int64, _ total: Int64) -> Void)? = nil,
        tee: ((UnsafeRawBufferPointer) -> Void)? = nil
    ) throws -> Written {
        let sink = try LayerSink(store: store, compression: options.compression, reuseChunks: options.reuseChunks, tee: tee)
        // One buffer for every file's reads: fresh memory per read costs a page fault per 4 KiB.
        let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { readBuffer.deallocate() }
        ArchiveLocale.ensure()
        guard let archive = archive_write_new() else { throw OCIError.invalidContent("cannot create a tar writer") }
        defer { archive_write_free(archive) }
        archive_write_set_format_pax_restricted(archive)
        // Unblocked: every entry's bytes reach the sink before the next entry starts, so chunks
        // can be cut at entry boundaries (and the archive ends after its two zero records).
        archive_write_set_bytes_per_block(archive, 0)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let opened = archive_write_open(
            archive, context, nil,
            { _, context, buffer, length in
                let sink = Unmanaged<LayerSink>.fromOpaque(context!).takeUnretainedValue()
                return sink.consume(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : -1
            }, nil)
        guard opened == ARCHIVE_OK else { throw OCIError.invalidContent("cannot open the tar writer") }

        let total = entries.reduce(Int64(0)) { $0 + $1.contentSize }
        var written: Int64 = 0
        for entry in entries.sorted(by: { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }) {
            try writeEntry(entry, to: archive, sink: sink, readBuffer: readBuffer)
            written += entry.contentSize
            progress?(written, total)
        }
        guard archive_write_close(archive) == ARCHIVE_OK else {
            throw sink.failure ?? OCIError.invalidContent("cannot finish the layer: \(Self.message(archive))")
        }
        return try sink.finish(mediaType: options.compression.mediaType)
    }

    private func writeEntry(_ entry: LayerEntry, to archive: OpaquePointer, sink: LayerSink, readBuffer: UnsafeMutableRawBufferPointer) throws {
        try sink.entryWillStart(contentSize: entry.contentSize)
        guard let header = archive_entry_new() else { throw OCIError.invalidContent("out of memory") }
        defer { archive_entry_free(header) }
        archive_entry_set_pathname_utf8(header, entry.path)
        archive_entry_set_perm(header, mode_t(entry.mode & 0o7777))
        archive_entry_set_uid(header, options.keepOwnership ? la_int64_t(entry.uid) : 0)
        archive_entry_set_gid(header, options.keepOwnership ? la_int64_t(entry.gid) : 0)
        archive_entry_set_mtime(header, time_t(min(entry.modified, options.epoch)), 0)
        var size: Int64 = 0
        switch entry.content {
        case .file(_, let fileSize):
            archive_entry_set_filetype(header, slipway_ae_ifreg())
            size = fileSize
        case .bytes(let data):
            archive_entry_set_filetype(header, slipway_ae_ifreg())
            size = Int64(data.count)
        case .directory:
            archive_entry_set_filetype(header, slipway_ae_ifdir())
        case .symlink(let target):
            archive_entry_set_filetype(header, slipway_ae_iflnk())
            archive_entry_set_symlink_utf8(header, target)
        case .hardlink(let target):
            archive_entry_set_filetype(header, slipway_ae_ifreg())
            archive_entry_set_hardlink_utf8(header, target)
        case .fifo:
            archive_entry_set_filetype(header, slipway_ae_ififo())
        }
        archive_entry_set_size(header, size)
        for xattr in entry.xattrs {
            xattr.value.withUnsafeBytes { archive_entry_xattr_add_entry(header, xattr.name, $0.baseAddress, $0.count) }
        }
        guard archive_write_header(archive, header) == ARCHIVE_OK else {
            throw sink.failure ?? OCIError.invalidContent("layer entry '\(entry.path)': \(Self.message(archive))")
        }
        switch entry.content {
        case .bytes(let data):
            try data.withUnsafeBytes { try writeData($0, entry: entry, to: archive, sink: sink) }
        case .file(let source, let expected):
            let descriptor = open(source.path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw OCIError.invalidContent("layer entry '\(entry.path)': cannot read \(source.path)")
            }
            defer { close(descriptor) }
            var written: Int64 = 0
            while true {
                let count = read(descriptor, readBuffer.baseAddress, readBuffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { throw OCIError.invalidContent("layer entry '\(entry.path)': cannot read \(source.path)") }
                guard count > 0, written + Int64(count) <= expected else { break }
                try writeData(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), entry: entry, to: archive, sink: sink)
                written += Int64(count)
            }
            guard written == expected else {
                throw OCIError.invalidContent("layer entry '\(entry.path)': \(source.path) changed size while being read")
            }
        default:
            break
        }
        guard archive_write_finish_entry(archive) == ARCHIVE_OK else {
            throw sink.failure ?? OCIError.invalidContent("layer entry '\(entry.path)': \(Self.message(archive))")
        }
        try sink.entryDidEnd(path: entry.path)
    }

    private func writeData(_ bytes: UnsafeRawBufferPointer, entry: LayerEntry, to archive: OpaquePointer, sink: LayerSink) throws {
        guard bytes.count > 0 else { return }
        guard archive_write_data(archive, bytes.baseAddress, bytes.count) == bytes.count else {
            throw sink.failure ?? OCIError.invalidContent("layer entry '\(entry.path)': \(Self.message(archive))")
        }
    }

    static func message(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
    }
}

/// Receives the uncompressed tar stream: hashes it and compresses it into a blob writer.
final class LayerSink {
    private var diffHasher = DigestHasher()
    /// nil for uncompressed layers, whose tar stream is the blob.
    private let compressor: ChunkedCompressor?
    private let writer: BlobWriter
    private let tee: ((UnsafeRawBufferPointer) -> Void)?
    private(set) var failure: (any Error)?

    init(store: ContentStore, compression: LayerCompression, reuseChunks: Bool, tee: ((UnsafeRawBufferPointer) -> Void)?) throws {
        let writer = try store.writer(source: "layer writer")
        (self.writer, self.tee) = (writer, tee)
        if let codec = try compression.makeChunkCodec() {
            compressor = try ChunkedCompressor(
                makeCodec: { try compression.makeChunkCodec() ?? codec },
                cache: reuseChunks ? { CompressedChunkCache(beside: store, codec: $0) } : nil,
                sink: { bytes in
                    try writer.write(bytes)
                    tee?(bytes)
                })
        } else {
            compressor = nil
        }
    }

    /// Chunk hints from the writer (see ``LayerChunking``).
    func entryWillStart(contentSize: Int64) throws {
        try compressor?.entryWillStart(contentSize: contentSize)
    }

    func entryDidEnd(path: String) throws {
        try compressor?.entryDidEnd(path: path)
    }

    /// - Returns: false after a failure (libarchive then stops).
    func consume(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard failure == nil else { return false }
        do {
            // The compressor hashes the stream itself, on another core.
            if compressor == nil { diffHasher.update(bytes) }
            if let compressor {
                try compressor.compress(bytes)
            } else {
                try writer.write(bytes)
                tee?(bytes)
            }
            return true
        } catch {
            failure = error
            writer.abort()
            return false
        }
    }

    func finish(mediaType: String) throws -> LayerWriter.Written {
        if let failure { throw failure }
        try compressor?.finish()
        let (digest, size) = try writer.commit()
        compressor?.remember(in: digest)
        let uncompressed = compressor?.uncompressedDigest() ?? (digest: diffHasher.finalize(), count: diffHasher.count)
        return LayerWriter.Written(
            descriptor: Descriptor(mediaType: mediaType, digest: digest, size: size), diffID: uncompressed.digest,
            uncompressedSize: uncompressed.count, reusedChunks: compressor?.reused ?? 0, compressedChunks: compressor?.compressed ?? 0)
    }
}
