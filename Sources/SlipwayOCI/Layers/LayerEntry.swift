public import Foundation

/// One entry of a layer to write: a path relative to the image root and what is there.
public struct LayerEntry: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        /// A regular file whose bytes are read from `source` while writing.
        case file(source: URL, size: Int64)
        /// A regular file with these bytes.
        case bytes(Data)
        case directory
        case symlink(target: String)
        /// Another entry of the same layer (a path relative to the root).
        case hardlink(target: String)
        /// A named pipe (`mkfifo` in a RUN); Docker and buildah keep them.
        case fifo
    }

    /// Relative, `/`-separated, without a leading `/` or `./`.
    public var path: String
    public var content: Content
    /// Permission bits, including setuid/setgid/sticky.
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Seconds since the epoch; the writer clamps it to the build epoch.
    public var modified: Int64
    /// Extended attributes to carry (see ``ExtendedAttributes``), sorted by name.
    public var xattrs: [Xattr] = []

    /// The bytes of a regular file's content (0 for anything else).
    public var contentSize: Int64 {
        switch content {
        case .file(_, let size): size
        case .bytes(let data): Int64(data.count)
        default: 0
        }
    }

    public struct Xattr: Sendable, Hashable {
        public var name: String
        public var value: [UInt8]

        public init(name: String, value: [UInt8]) {
            self.name = name
            self.value = value
        }
    }

    public init(path: String, content: Content, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, modified: Int64 = 0) {
        self.path = path
        self.content = content
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.modified = modified
    }

    /// Deletes `path` of lower layers (`dir/.wh.name`).
    public static func whiteout(_ path: String) -> LayerEntry {
        let (parent, name) = split(path)
        return LayerEntry(path: (parent.isEmpty ? "" : parent + "/") + ".wh." + name, content: .bytes(Data()), mode: 0o644)
    }

    /// Hides everything lower layers have in `directory` (`directory/.wh..wh..opq`).
    public static func opaque(_ directory: String) -> LayerEntry {
        LayerEntry(path: (directory.isEmpty ? "" : directory + "/") + ".wh..wh..opq", content: .bytes(Data()), mode: 0o644)
    }

    /// `a/b/c` → (`a/b`, `c`); `c` → (``, `c`). For clean relative paths (no `.`/`..`).
    public static func split(_ path: String) -> (parent: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    public static let whiteoutPrefix = ".wh."
    public static let opaqueMarker = ".wh..wh..opq"
}
