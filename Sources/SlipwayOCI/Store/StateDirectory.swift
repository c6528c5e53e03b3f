public import Foundation
import Glibc

/// Slipway's state directory and where each part of it lives: the content store (`oci`),
/// unpacked layers (`layers`), container bundles (`run`), the instruction cache
/// (`cache/instructions`), the compressed-chunk index (`cache/chunks`), fetched contexts (`contexts`) and build scratch space (`tmp`).
///
/// Unpacked layers hold images' setuid binaries and device nodes as the images have them, so
/// the tree must be out of other users' reach: the root is kept at mode 0700, owned by the user
/// running Slipway (checked, and fixed, every time a store is opened in it).
public struct StateDirectory: Sendable, Hashable {
    public let root: URL

    public init(_ root: URL) {
        self.root = root.standardizedFileURL
    }

    /// The state directory a store lives in (`<state>/oci`).
    public init(of store: ContentStore) {
        self.init(store.root.deletingLastPathComponent())
    }

    public var store: URL { root.appendingPathComponent("oci") }
    public var layers: URL { root.appendingPathComponent("layers") }
    public var run: URL { root.appendingPathComponent("run") }
    public var instructionCache: URL { root.appendingPathComponent("cache/instructions") }
    /// Where each compressed chunk of the store's layers sits, by the digest of its bytes.
    public var compressedChunks: URL { root.appendingPathComponent("cache/chunks") }
    public var contexts: URL { root.appendingPathComponent("contexts") }
    /// `RUN --mount=type=cache` folders, one per cache id; they outlive builds, never in a layer.
    public var cacheMounts: URL { root.appendingPathComponent("cache/mounts") }
    /// Build scratch space: other stages' files for COPY --from, ADD downloads and archives.
    public var scratch: URL { root.appendingPathComponent("tmp") }

    /// The only permissions the state root may have.
    public static let mode: mode_t = 0o700

    /// Creates the root when missing and tightens it to 0700 when it is looser.
    /// - Throws: ``OCIError`` when the root is not a directory (a symlink, say), belongs to
    ///   another user, or cannot be made private.
    public func secure() throws {
        try FileManager.default.createDirectory(at: root.deletingLastPathComponent(), withIntermediateDirectories: true)
        if mkdir(root.path, Self.mode) != 0 && errno != EEXIST {
            throw OCIError.invalidContent("cannot create the state directory \(root.path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(root.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw OCIError.invalidContent("the state directory \(root.path) is not a directory (a symlink is not accepted)")
        }
        guard info.st_uid == geteuid() else {
            throw OCIError.invalidContent("the state directory \(root.path) belongs to uid \(info.st_uid), not to the user running slipway (uid \(geteuid()))")
        }
        if info.st_mode & 0o7777 != Self.mode, chmod(root.path, Self.mode) != 0 {
            throw OCIError.invalidContent("cannot make the state directory \(root.path) private (0700): \(String(cString: strerror(errno)))")
        }
    }

    /// A new empty folder in the scratch space; the caller removes it.
    public func scratchFolder(_ label: String) throws -> URL {
        let folder = scratch.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
