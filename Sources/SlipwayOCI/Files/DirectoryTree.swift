public import Foundation
import Glibc

/// A directory on the host seen as a root file system (a build context, an unpacked stage, a
/// container's root). Lookups, and the files and folders made here, stay inside it whatever
/// symlinks the tree holds.
///
/// Resolution walks component by component with `lstat`, so it is exact while nothing else
/// changes the tree; Slipway resolves in a tree only while no untrusted process runs in it (a
/// context is read before the build, a container's root is prepared before it starts).
public struct DirectoryTree: RootedTree {
    public let root: URL

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    public func entry(at components: [String]) -> RootedEntry? {
        let url = self.url(components)
        var info = stat()
        guard lstat(url.path, &info) == 0 else { return nil }
        return RootedEntry(url: url, mode: info.st_mode)
    }

    /// The host path of already resolved components.
    public func url(_ components: [String]) -> URL {
        components.isEmpty ? root : root.appendingPathComponent(components.joined(separator: "/"))
    }

    /// The host path of a tree path, symlinks resolved inside the tree.
    public func url(resolving path: String, followingFinalLink: Bool = true) throws -> URL {
        url(try resolvedComponents(path, followingFinalLink: followingFinalLink))
    }

    /// Makes the directory `path` and any missing parents inside the tree (`mkdir -p` in a
    /// chroot), with `mode` for the new ones.
    /// - Returns: the resolved paths of the directories it made, parents first.
    @discardableResult
    public func makeDirectories(_ path: String, mode: mode_t = 0o755) throws -> [String] {
        let components = try resolvedComponents(path)
        var made: [String] = []
        for depth in components.indices {
            let prefix = Array(components[...depth])
            if let found = entry(at: prefix) {
                guard found.isDirectory else {
                    throw RootedPathError(description: "cannot make '\(path)': '\(prefix.joined(separator: "/"))' is not a directory")
                }
                continue
            }
            guard mkdir(url(prefix).path, mode) == 0 || errno == EEXIST else {
                throw RootedPathError(description: "cannot make '\(path)': \(String(cString: strerror(errno)))")
            }
            made.append(prefix.joined(separator: "/"))
        }
        return made
    }

    /// Creates an empty regular file at `path` (parents must exist) unless something is there.
    /// - Returns: its resolved path when it made one, nil when `path` already existed.
    public func createFile(_ path: String, mode: mode_t = 0o644) throws -> String? {
        let components = try resolvedComponents(path)
        guard !components.isEmpty else { throw RootedPathError(description: "cannot create a file at the root") }
        if entry(at: components) != nil { return nil }
        let descriptor = open(url(components).path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw RootedPathError(description: "cannot create '\(path)': \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        return components.joined(separator: "/")
    }
}
