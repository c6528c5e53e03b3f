import CArchive
public import Foundation
import Glibc

/// Turns a directory tree into layer entries using `lstat` (symlinks are recorded, never
/// followed). Files sharing an inode become hardlinks to the first path seen; an overlayfs
/// whiteout (a 0/0 character device) becomes a `.wh.` entry, so a container's upper directory
/// turns into a proper layer.
public enum DirectoryScanner {
    /// The extended attribute overlayfs sets on a directory that hides its lower layers' contents.
    static let opaqueAttribute = "trusted.overlay.opaque"

    /// - Parameters:
    ///   - root: the directory whose *contents* become the layer.
    ///   - prefix: where they go in the image (`app` puts `root/x` at `app/x`).
    /// - Throws: ``OCIError`` for unreadable entries or special files other than whiteouts.
    public static func entries(of root: URL, prefix: String = "") throws -> [LayerEntry] {
        var entries: [LayerEntry] = []
        var inodes: [UInt64: String] = [:]
        try walk(root.path, relative: prefix, entries: &entries, inodes: &inodes)
        return entries
    }

    /// Whether overlayfs marked the directory opaque (`rm -rf d && mkdir d` in a container).
    public static func isOpaque(_ path: String) -> Bool {
        var value: [CChar] = [0, 0]
        return getxattr(path, opaqueAttribute, &value, 1) == 1 && value[0] == CChar(UInt8(ascii: "y"))
    }

    /// The entry for the host file `host` at `path` in the image: its mode bits, owner,
    /// modification time and carried xattrs, as the scan records them.
    /// - Throws: ``OCIError`` when `host` cannot be read.
    public static func entry(_ content: LayerEntry.Content, at path: String, host: String) throws -> LayerEntry {
        var info = stat()
        guard lstat(host, &info) == 0 else { throw OCIError.invalidContent("cannot read \(host): \(String(cString: strerror(errno)))") }
        return entry(content, at: path, host: host, info: info)
    }

    static func entry(_ content: LayerEntry.Content, at path: String, host: String, info: stat) -> LayerEntry {
        var entry = LayerEntry(
            path: path, content: content, mode: UInt32(info.st_mode) & 0o7777, uid: info.st_uid, gid: info.st_gid,
            modified: Int64(info.st_mtim.tv_sec))
        entry.xattrs = ExtendedAttributes.read(host)
        return entry
    }

    private static func walk(_ path: String, relative: String, entries: inout [LayerEntry], inodes: inout [UInt64: String]) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for name in names {
            let full = path + "/" + name
            let inImage = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(full, &info) == 0 else {
                throw OCIError.invalidContent("cannot read \(full): \(String(cString: strerror(errno)))")
            }
            let kind = FileMode.type(UInt32(info.st_mode))
            func entry(_ content: LayerEntry.Content) -> LayerEntry { Self.entry(content, at: inImage, host: full, info: info) }
            switch kind {
            case FileMode.directory:
                entries.append(entry(.directory))
                if isOpaque(full) { entries.append(LayerEntry.opaque(inImage)) }
                try walk(full, relative: inImage, entries: &entries, inodes: &inodes)
            case FileMode.regular:
                if info.st_nlink > 1, let first = inodes[UInt64(info.st_ino)] {
                    entries.append(entry(.hardlink(target: first)))
                } else {
                    if info.st_nlink > 1 { inodes[UInt64(info.st_ino)] = inImage }
                    entries.append(entry(.file(source: URL(fileURLWithPath: full), size: Int64(info.st_size))))
                }
            case FileMode.symlink:
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let length = readlink(full, &buffer, buffer.count - 1)
                guard length >= 0 else { throw OCIError.invalidContent("cannot read link \(full)") }
                let target = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                entries.append(entry(.symlink(target: target)))
            case FileMode.characterDevice where info.st_rdev == 0:
                entries.append(LayerEntry.whiteout(inImage))
            case FileMode.fifo:
                entries.append(entry(.fifo))
            default:
                // Named by its path in the image: the host path is an internal folder of Slipway's.
                let what = kind == FileMode.socket ? "a socket" : "a device file"
                throw OCIError.invalidContent("/\(inImage) is \(what); sockets and device files cannot go into a layer")
            }
        }
    }
}
