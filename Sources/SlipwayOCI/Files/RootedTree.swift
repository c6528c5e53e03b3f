public import Foundation
import Glibc

/// A file tree seen from inside, as if its root were `/`: a build context, another stage's
/// files, a container's root file system, or a stack of image layers.
///
/// Every path Slipway takes from a context, an image or an archive is resolved through one of
/// these: symlinks are followed the way the kernel would follow them inside a chroot (an
/// absolute target starts again at the tree's root, `..` stops at the root), so no path can
/// lead to the host's files. This is what BuildKit's `fs.RootPath` and securejoin do.
///
/// A conforming type answers one question: what is at a path none of whose directories above
/// the last component is a symlink (``resolve(_:followingFinalLink:)`` guarantees that before
/// asking).
public protocol RootedTree: Sendable {
    /// The entry at `components` (relative, no `.`, `..` or empty parts, and no symlinks above
    /// the last one), not following a symlink there; nil when nothing is there.
    func entry(at components: [String]) throws -> RootedEntry?
}

/// What ``RootedTree/entry(at:)`` found: where it is on the host, and its `lstat` mode.
public struct RootedEntry: Sendable, Hashable {
    /// The host path of the entry. Every directory above it is a real directory.
    public var url: URL
    public var mode: mode_t

    public init(url: URL, mode: mode_t) {
        self.url = url
        self.mode = mode
    }

    public var isDirectory: Bool { mode & S_IFMT == S_IFDIR }
    public var isSymlink: Bool { mode & S_IFMT == S_IFLNK }
    public var isRegularFile: Bool { mode & S_IFMT == S_IFREG }
}

/// A path that could not be resolved inside its tree.
public struct RootedPathError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

extension RootedTree {
    /// Linux gives up after 40 links in one lookup (ELOOP); so do we.
    static var maximumLinks: Int { 40 }

    /// `path` with every symlink resolved inside the tree: a clean relative path ("" for the
    /// root) none of whose components is a symlink (nor the last, when `followingFinalLink`).
    /// Components that do not exist are kept as written, so the result also says where a new
    /// file would go.
    /// - Throws: ``RootedPathError`` for a symlink loop, or a path through something that is
    ///   not a directory.
    public func resolve(_ path: String, followingFinalLink: Bool = true) throws -> String {
        try resolvedComponents(path, followingFinalLink: followingFinalLink).joined(separator: "/")
    }

    public func resolvedComponents(_ path: String, followingFinalLink: Bool = true) throws -> [String] {
        var pending = Self.components(path)
        var resolved: [String] = []
        var links = 0
        while !pending.isEmpty {
            let part = pending.removeFirst()
            if part == "." { continue }
            if part == ".." {
                _ = resolved.popLast()  // `..` at the root stays at the root, as in a chroot
                continue
            }
            let candidate = resolved + [part]
            let isLast = pending.isEmpty
            guard let found = try entry(at: candidate) else {
                resolved = candidate  // absent: nothing to follow
                continue
            }
            if found.isSymlink && (!isLast || followingFinalLink) {
                links += 1
                guard links <= Self.maximumLinks else {
                    throw RootedPathError(description: "'\(path)': too many levels of symbolic links")
                }
                let target = try Self.linkTarget(of: found.url)
                if target.hasPrefix("/") { resolved = [] }
                pending = Self.components(target) + pending
                continue
            }
            if !isLast && !found.isDirectory {
                throw RootedPathError(description: "'\(path)': '\(candidate.joined(separator: "/"))' is not a directory")
            }
            resolved = candidate
        }
        return resolved
    }

    /// What `path` names, symlinks followed inside the tree (the last one too unless asked not
    /// to); nil when nothing is there, and for the root itself, which is no entry.
    public func locate(_ path: String, followingFinalLink: Bool = true) throws -> RootedEntry? {
        let components = try resolvedComponents(path, followingFinalLink: followingFinalLink)
        if components.isEmpty { return nil }
        return try entry(at: components)
    }

    /// The regular file `path` names inside the tree, or nil (absent, a directory, a device...).
    public func regularFile(_ path: String) throws -> URL? {
        guard let found = try locate(path), found.isRegularFile else { return nil }
        return found.url
    }

    static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    static func linkTarget(of url: URL) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(url.path, &buffer, buffer.count - 1)
        guard length >= 0 else {
            throw RootedPathError(description: "cannot read the link \(url.lastPathComponent): \(String(cString: strerror(errno)))")
        }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
