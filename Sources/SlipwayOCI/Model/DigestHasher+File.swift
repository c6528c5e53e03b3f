public import Foundation
import Glibc

extension DigestHasher {
    /// The digest of a file's bytes, read with read(2) into one reused 1 MiB buffer: no
    /// allocation per read (fresh pages cost a fault each) and a buffer that stays in cache, so
    /// hashing runs near the CPU's SHA-256 speed.
    public static func digest(ofFile url: URL, algorithm: Digest.Algorithm = .sha256) throws -> Digest {
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw OCIError.invalidContent("cannot read \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_SEQUENTIAL)
        var hasher = DigestHasher(algorithm)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw OCIError.invalidContent("cannot read \(url.path): \(String(cString: strerror(errno)))") }
            if count == 0 { return hasher.finalize() }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }
}
