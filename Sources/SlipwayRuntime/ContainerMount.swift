public import Foundation

/// Something mounted into a container for one run and never part of its changes: a host
/// folder or file (a cache, a secret, a build context, a heredoc script) or an empty tmpfs.
public struct ContainerMount: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        /// A host path, bound at the target.
        case bind(URL, readOnly: Bool)
        /// A fresh tmpfs; `size` in bytes when limited.
        case tmpfs(size: Int64?)
        /// Another root, bound read-write where device nodes work (a package's scripts need
        /// /dev/null there); which devices may be opened is still the container's device rule.
        case root(URL)
    }

    /// The path inside the container; resolved inside its root by runc (securejoin).
    public var target: String
    public var source: Source

    public init(target: String, source: Source) {
        self.target = target
        self.source = source
    }

    /// Whether the mount point is a file (a bound file) rather than a folder.
    var isFile: Bool {
        guard case .bind(let url, _) = source else { return false }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    var runtimeMount: RuntimeSpec.Mount {
        switch source {
        case .bind(let url, let readOnly):
            RuntimeSpec.Mount(destination: target, type: "bind", source: url.path, options: ["rbind", readOnly ? "ro" : "rw", "nosuid", "nodev"])
        case .root(let url):
            RuntimeSpec.Mount(destination: target, type: "bind", source: url.path, options: ["rbind", "rw", "nosuid"])
        case .tmpfs(let size):
            RuntimeSpec.Mount(
                destination: target, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"] + (size.map { ["size=\($0)"] } ?? []))
        }
    }
}
