public import Foundation
import Glibc

/// Writes one blob into a ``ContentStore``: bytes go to a temporary file while being hashed;
/// ``commit()`` checks digest and size, syncs, and renames into place atomically. A writer that
/// is never committed leaves nothing behind.
public final class BlobWriter {
    private let store: ContentStore
    private let temporary: URL
    private let handle: FileHandle
    private var hasher: DigestHasher
    private let expected: Digest?
    private let expectedSize: Int64?
    private let source: String
    private var finished = false

    init(store: ContentStore, expected: Digest?, expectedSize: Int64?, source: String) throws {
        self.store = store
        self.expected = expected
        self.expectedSize = expectedSize
        self.source = source
        hasher = DigestHasher(expected?.algorithm ?? .sha256)
        temporary = store.temporaryURL()
        // Not FileManager.createFile, which writes (and fsyncs) a file of its own first.
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw OCIError.invalidContent("cannot create \(temporary.path): \(String(cString: strerror(errno)))")
        }
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    /// Bytes written so far.
    public var count: Int64 { hasher.count }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!finished, "BlobWriter used after commit or abort")
        if let expectedSize, hasher.count + Int64(bytes.count) > expectedSize {
            abort()
            throw OCIError.sizeMismatch(expected: expectedSize, actual: hasher.count + Int64(bytes.count), source: source)
        }
        hasher.update(bytes)
        try handle.write(contentsOf: bytes)
    }

    public func write(_ data: some DataProtocol) throws {
        for region in data.regions { try region.withUnsafeBytes { try write($0) } }
    }

    /// Verifies and moves the blob into place.
    /// - Returns: the blob's digest and size.
    /// - Throws: ``OCIError`` on a digest or size mismatch; nothing is stored then.
    @discardableResult
    public func commit() throws -> (digest: Digest, size: Int64) {
        precondition(!finished, "BlobWriter committed twice")
        let digest = hasher.finalize()
        let size = hasher.count
        do {
            if let expected, expected != digest {
                throw OCIError.digestMismatch(expected: expected, actual: digest, source: source)
            }
            if let expectedSize, expectedSize != size {
                throw OCIError.sizeMismatch(expected: expectedSize, actual: size, source: source)
            }
            try handle.synchronize()
            try handle.close()
            finished = true
            try store.install(temporary, as: digest)
            return (digest, size)
        } catch {
            abort()
            throw error
        }
    }

    /// Discards what was written.
    public func abort() {
        if !finished { try? handle.close() }
        finished = true
        try? FileManager.default.removeItem(at: temporary)
    }

    deinit { if !finished { abort() } }
}
