public import Foundation
import Glibc

/// Replaces a file's contents all at once: the bytes go to a new file beside it, which is then
/// renamed over it, so a reader sees the old contents or the new, never a mix.
///
/// Written with plain system calls: Foundation's `createFile` and `Data.write` add a temporary
/// file and an fsync of their own to every write, which cost a cache entry more than its bytes.
public enum FileReplacement {
    /// - Parameters:
    ///   - durable: fsync the bytes and the folder (for the store's index); caches, which only
    ///     cost time when lost, leave that to the kernel.
    ///   - staging: where the new file is written first (same file system); default: beside `url`.
    public static func write(_ data: Data, to url: URL, durable: Bool, staging: URL? = nil) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = (staging ?? folder).appendingPathComponent(".\(UUID().uuidString)")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("cannot create \(temporary.path)") }
        do {
            try data.withUnsafeBytes { bytes in
                var done = 0
                while done < bytes.count {
                    let count = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { throw failure("cannot write \(temporary.path)") }
                    done += count
                }
            }
            if durable, fsync(descriptor) != 0 { throw failure("cannot sync \(temporary.path)") }
        } catch {
            close(descriptor)
            unlink(temporary.path)
            throw error
        }
        close(descriptor)
        guard rename(temporary.path, url.path) == 0 else {
            let error = failure("cannot replace \(url.path)")
            unlink(temporary.path)
            throw error
        }
        if durable { syncFolder(folder) }
    }

    /// Makes a rename in `folder` durable.
    public static func syncFolder(_ folder: URL) {
        let descriptor = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    private static func failure(_ message: String) -> OCIError {
        OCIError.invalidContent("\(message): \(String(cString: strerror(errno)))")
    }
}
