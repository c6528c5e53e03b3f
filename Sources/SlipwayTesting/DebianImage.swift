public import Foundation
import Glibc

/// A real Debian bookworm base for tests: a minbase root filesystem made by mmdebstrap from
/// the machine's apt mirror (`Scripts/debian-base.sh`, cached per machine), turned into an
/// image by `ADD rootfs.tar /` so every builder under test starts from the same bytes.
public enum DebianImage {
    public static let dockerfile = """
        FROM scratch
        ADD rootfs.tar /
        CMD ["bash"]
        """

    /// Which suites the base is made from.
    public enum Variant: String, Sendable {
        /// bookworm with this machine's suites (-updates and -security too).
        case full
        /// bookworm main alone: packages that -updates and -security have newer versions of.
        case main
    }

    /// The cached root filesystem tarball, made first if this machine has none yet.
    /// - Throws: ``Prerequisites/Missing`` when it cannot be made (no mmdebstrap, no mirror).
    public static func rootfsTarball(_ variant: Variant = .full) async throws -> URL {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/debian-base.sh")
        do {
            let path = try await Shell.run("/bin/bash", [script.path, variant.rawValue]).trimmingCharacters(in: .whitespacesAndNewlines)
            return URL(fileURLWithPath: path)
        } catch {
            throw Prerequisites.Missing(description: "missing prerequisite: the Debian bookworm test base (\(script.path)): \(error)")
        }
    }

    /// A build context whose Dockerfile makes the image.
    public static func context(_ variant: Variant = .full) async throws -> URL {
        let tarball = try await rootfsTarball(variant)
        let context = try Scratch.files(["Dockerfile": dockerfile], label: "debian")
        let target = context.appendingPathComponent("rootfs.tar")
        // A hard link when the cache shares the file system, else a copy (never a symlink:
        // a context's links stay inside it).
        if link(tarball.path, target.path) != 0 { try FileManager.default.copyItem(at: tarball, to: target) }
        return context
    }
}
