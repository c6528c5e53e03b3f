import Foundation
public import SlipwayOCI
import Glibc

/// A stack of image layers (bottom first) seen as the one file system an overlay mount of them
/// would show, without mounting anything: each layer is read from its unpacked copy in the
/// ``LayerCache``. Symlinks resolve inside the stack (``RootedTree``), so a link a base image
/// planted (`etc -> /etc`) never leads to the host's files.
public struct LayerStack: RootedTree {
    public let layers: [(layer: Descriptor, diffID: Digest)]
    public let cache: LayerCache

    public init(_ layers: [(layer: Descriptor, diffID: Digest)], cache: LayerCache) {
        self.layers = layers
        self.cache = cache
    }

    /// The topmost layer's entry, as overlayfs merges them: a layer hides the layers below it
    /// at a path when it deletes the path (a whiteout), when one of the path's directories is
    /// not a directory there, or when one of them is opaque there.
    /// - Throws: when a layer cannot be unpacked (its diffID does not match, say).
    public func entry(at components: [String]) throws -> RootedEntry? {
        guard let name = components.last else { return nil }
        for (layer, diffID) in layers.reversed() {
            let root = try cache.unpacked(layer, diffID: diffID)
            var directory = root
            var hidesBelow = false
            var reachable = true
            for part in components.dropLast() {
                directory = directory.appendingPathComponent(part)
                var info = stat()
                guard lstat(directory.path, &info) == 0 else {
                    reachable = false  // this layer has nothing here; look lower
                    break
                }
                // A whiteout, a file or a symlink in place of the directory ends the merge.
                guard info.st_mode & S_IFMT == S_IFDIR else { return nil }
                if DirectoryScanner.isOpaque(directory.path) { hidesBelow = true }
            }
            if reachable {
                let candidate = directory.appendingPathComponent(name)
                var info = stat()
                if lstat(candidate.path, &info) == 0 {
                    let whiteout = info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0
                    return whiteout ? nil : RootedEntry(url: candidate, mode: info.st_mode)
                }
            }
            if hidesBelow { return nil }
        }
        return nil
    }
}
