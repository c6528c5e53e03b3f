public import Foundation
public import SlipwayOCI
import Glibc

/// Image layers unpacked once per diffID, each in overlayfs's own format (whiteouts as 0/0
/// devices, opaque directories as xattrs), so any stack of them can be the lower layers of an
/// overlay mount. Entries are complete or absent: a layer is unpacked into a private folder and
/// renamed into place, and when two builds race the loser's copy is thrown away.
public struct LayerCache: Sendable {
    public let root: URL
    public let store: ContentStore

    /// - Parameter root: `<state>/layers`; created when needed.
    public init(root: URL, store: ContentStore) {
        self.root = root
        self.store = store
    }

    /// The cache that belongs next to `store` (`<state>/layers` beside `<state>/oci`).
    public init(beside store: ContentStore) {
        self.init(root: store.root.deletingLastPathComponent().appendingPathComponent("layers"), store: store)
    }

    public func directory(for diffID: Digest) -> URL {
        root.appendingPathComponent(diffID.algorithm.rawValue).appendingPathComponent(diffID.hex)
    }

    /// The unpacked form of `layer` (whose uncompressed digest is `diffID`), unpacking it now if
    /// no build has yet.
    public func unpacked(_ layer: Descriptor, diffID: Digest) throws -> URL {
        let target = directory(for: diffID)
        if FileManager.default.fileExists(atPath: target.path) { return target }
        let staging = try stagingDirectory()
        do {
            let extractor = LayerExtractor(limits: .init(allowDevices: true, keepOwnership: true), whiteouts: .overlay)
            try extractor.extract(store.blobURL(layer.digest), into: staging)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
        return try adopt(staging, as: diffID)
    }

    /// Moves a directory that already is a layer in overlay form (a container's upper dir) into
    /// the cache under `diffID`.
    @discardableResult
    public func adopt(_ directory: URL, as diffID: Digest) throws -> URL {
        let target = self.directory(for: diffID)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        if rename(directory.path, target.path) != 0 {
            // Another build put the same layer here first; theirs is as good as ours.
            try? FileManager.default.removeItem(at: directory)
            guard FileManager.default.fileExists(atPath: target.path) else {
                throw RuntimeError.setup("cannot move a layer into \(target.path): \(String(cString: strerror(errno)))")
            }
        }
        return target
    }

    /// Where `path` is in a stack of layers (bottom first) as an overlay mount would show it:
    /// the unpacked copy in the topmost layer that has it, or nil when no layer does, or a
    /// layer above deleted it (a whiteout there, or an opaque directory above it).
    /// - Returns: the file and its `lstat` mode.
    public func locate(_ path: String, in layers: [(layer: Descriptor, diffID: Digest)]) throws -> (url: URL, mode: mode_t)? {
        for (layer, diffID) in layers.reversed() {
            let root = try unpacked(layer, diffID: diffID)
            let candidate = root.appendingPathComponent(path)
            var info = stat()
            if lstat(candidate.path, &info) == 0 {
                let whiteout = (info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == 0
                return whiteout ? nil : (candidate, info.st_mode)
            }
            if Self.hidesLowerLayers(path, in: root) { return nil }
        }
        return nil
    }

    /// Whether an unpacked layer marks a directory above `path` opaque.
    private static func hidesLowerLayers(_ path: String, in layer: URL) -> Bool {
        var current = layer
        for part in path.split(separator: "/").dropLast() {
            current = current.appendingPathComponent(String(part))
            if DirectoryScanner.isOpaque(current.path) { return true }
        }
        return false
    }

    private func stagingDirectory() throws -> URL {
        let staging = root.appendingPathComponent("staging").appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        return staging
    }
}
