import CArchive
import Foundation
import Glibc

/// The extended attributes a layer carries: file capabilities (`security.capability`, what
/// `setcap cap_net_raw+ep` writes and iputils-ping needs) and `user.*` ones. Never the
/// `trusted.*` namespace, where overlayfs keeps its own bookkeeping (opaque directories,
/// redirects): a layer that brought those could rearrange the overlay a RUN sees.
public enum ExtendedAttributes {
    /// Whether a layer may carry the attribute `name`.
    public static func isCarried(_ name: String) -> Bool {
        name == "security.capability" || name.hasPrefix("user.")
    }

    /// The carried attributes of `path` (not following a symlink), sorted by name so layers
    /// stay reproducible. A file system without xattrs has none.
    public static func read(_ path: String) -> [LayerEntry.Xattr] {
        let size = llistxattr(path, nil, 0)
        guard size > 0 else { return [] }
        var names = [CChar](repeating: 0, count: size)
        let length = llistxattr(path, &names, size)
        guard length > 0 else { return [] }
        let list = names[0..<length].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        var attributes: [LayerEntry.Xattr] = []
        for name in list.sorted() where isCarried(name) {
            let valueSize = lgetxattr(path, name, nil, 0)
            guard valueSize >= 0 else { continue }
            var value = [UInt8](repeating: 0, count: valueSize)
            let read = valueSize == 0 ? 0 : lgetxattr(path, name, &value, valueSize)
            guard read >= 0 else { continue }
            attributes.append(LayerEntry.Xattr(name: name, value: Array(value[0..<read])))
        }
        return attributes
    }

    /// The attribute `name` of `path` (any namespace, not following a symlink), or nil.
    public static func value(_ name: String, of path: String) -> [UInt8]? {
        let size = lgetxattr(path, name, nil, 0)
        guard size >= 0 else { return nil }
        var value = [UInt8](repeating: 0, count: size)
        guard size == 0 || lgetxattr(path, name, &value, size) == size else { return nil }
        return value
    }

    /// Sets the attribute `name` of `path` (not following a symlink); false when it cannot.
    @discardableResult
    public static func set(_ name: String, _ value: [UInt8], on path: String) -> Bool {
        value.withUnsafeBytes { lsetxattr(path, name, $0.baseAddress, $0.count, 0) == 0 }
    }
}
