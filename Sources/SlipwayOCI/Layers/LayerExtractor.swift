import CArchive
public import Foundation
import Glibc
import SlipwayKernel

/// Unpacks layers (any tar dialect libarchive reads, compressed or not) onto a root directory,
/// applying whiteouts, and refusing hostile archives: entries with `..` or absolute paths, paths
/// or hardlinks that reach through a symlink or out of the root, device files (unless allowed),
/// and archives past the entry or size limits. The error names the offending entry; nothing is
/// ever written outside the root.
public struct LayerExtractor: Sendable {
    public struct Limits: Sendable, Hashable {
        public var maxEntries: Int
        /// The most bytes the archive may unpack to (its uncompressed stream, headers included):
        /// the defence against decompression bombs.
        public var maxTotalBytes: Int64
        public var allowDevices: Bool
        /// Apply the archive's uid/gid (needs root).
        public var keepOwnership: Bool
        /// Bytes that must stay free on the disk being written to; nil: no check.
        public var freeSpaceReserve: Int64?

        /// A layer may unpack to 16 GiB unless the caller says otherwise.
        public static let defaultMaxBytes: Int64 = 16 << 30
        /// What unpacking leaves free on the disk unless the caller says otherwise.
        public static let defaultFreeSpaceReserve: Int64 = 1 << 30

        /// - Parameter keepOwnership: defaults to true when running as root.
        public init(
            maxEntries: Int = 1_000_000, maxTotalBytes: Int64 = Limits.defaultMaxBytes, allowDevices: Bool = false, keepOwnership: Bool? = nil,
            freeSpaceReserve: Int64? = Limits.defaultFreeSpaceReserve
        ) {
            self.maxEntries = maxEntries
            self.maxTotalBytes = maxTotalBytes
            self.allowDevices = allowDevices
            self.keepOwnership = keepOwnership ?? (geteuid() == 0)
            self.freeSpaceReserve = freeSpaceReserve
        }
    }

    public struct Report: Sendable, Hashable {
        public var entries = 0
        public var bytes: Int64 = 0
        public var whiteouts = 0
        /// The length of the uncompressed stream.
        public var uncompressedBytes: Int64 = 0
    }

    /// What a whiteout entry does.
    public enum Whiteouts: Sendable, Hashable {
        /// Delete what earlier layers put there (flattening layers onto one root).
        case apply
        /// Record it the way overlayfs does (a 0/0 character device, an opaque xattr), so the
        /// directory can serve as one lower layer of an overlay mount.
        case overlay
    }

    public let limits: Limits
    public let whiteouts: Whiteouts

    /// The archive unpacks to more than ``Limits/maxTotalBytes``.
    public struct SizeLimitExceeded: Error, CustomStringConvertible, Sendable {
        /// The entry being read when the limit was passed, if any.
        public var entry: String?
        public var limit: Int64

        public var description: String {
            (entry.map { "layer entry '\($0)': " } ?? "") + "it unpacks to more than \(ByteCountText.describe(limit)), the limit for one layer; refusing it"
        }
    }

    public init(limits: Limits = Limits(), whiteouts: Whiteouts = .apply) {
        self.limits = limits
        self.whiteouts = whiteouts
    }

    /// - Parameter expectedDiffID: the digest the uncompressed stream must have (an image
    ///   config's `rootfs.diff_ids` entry). It is computed while unpacking; on a mismatch the
    ///   extraction fails with both digests named, and the caller throws the folder away.
    /// - Throws: ``OCIError`` naming the refused entry, or the archive's own error.
    @discardableResult
    public func extract(_ layer: URL, into root: URL, expectedDiffID: Digest? = nil) throws -> Report {
        ArchiveLocale.ensure()
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let rootPath = root.resolvingSymlinksInPath().path
        let space = limits.freeSpaceReserve.map { FreeSpaceCheck(directory: root, reserve: $0) }
        if let problem = space?.problem() { throw OCIError.invalidContent(problem) }
        let stream = try UncompressedLayerStream(
            file: layer, algorithm: expectedDiffID?.algorithm ?? .sha256, limit: limits.maxTotalBytes, space: space)
        guard let reader = archive_read_new() else { throw OCIError.invalidContent("cannot create a tar reader") }
        defer { archive_read_free(reader) }
        archive_read_support_format_tar(reader)
        archive_read_support_format_gnutar(reader)
        // What went wrong: the stream's own reason (a cap, the disk) before libarchive's.
        func failure(_ raw: String?, _ archive: OpaquePointer) -> any Error {
            if stream.exceededLimit { return SizeLimitExceeded(entry: raw, limit: limits.maxTotalBytes) }
            let reason = stream.failure ?? LayerWriter.message(archive)
            return OCIError.invalidContent(raw.map { "layer entry '\($0)': \(reason)" } ?? reason)
        }
        guard stream.open(reader) == ARCHIVE_OK else { throw failure(nil, reader) }
        guard let disk = archive_write_disk_new() else { throw OCIError.invalidContent("cannot create a disk writer") }
        defer { archive_write_free(disk) }
        // Extended attributes are restored, but only the ones a layer may carry (filtered below).
        var flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME
            | ARCHIVE_EXTRACT_XATTR
        if limits.keepOwnership { flags |= ARCHIVE_EXTRACT_OWNER }
        archive_write_disk_set_options(disk, flags)

        var report = Report()
        var written = Set<String>()
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else { throw failure(nil, reader) }
            let raw = archive_entry_pathname_utf8(entry).map { String(cString: $0) }
                ?? archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            let path = try Self.clean(raw)
            guard !path.isEmpty else { continue }  // the root itself
            report.entries += 1
            guard report.entries <= limits.maxEntries else {
                throw OCIError.invalidContent("layer entry '\(raw)': more than \(limits.maxEntries) entries; refusing the archive")
            }
            let size = archive_entry_size(entry)
            guard size >= 0, report.bytes + size <= limits.maxTotalBytes else {
                throw SizeLimitExceeded(entry: raw, limit: limits.maxTotalBytes)
            }

            let (parent, name) = LayerEntry.split(path)
            if name == LayerEntry.opaqueMarker {
                try Self.ensureInside(rootPath, parent, raw: raw)
                switch whiteouts {
                case .apply: try Self.clearDirectory(rootPath + "/" + parent, keeping: written, relative: parent)
                case .overlay: try Self.markOpaque(rootPath + "/" + parent, raw: raw)
                }
                report.whiteouts += 1
                continue
            }
            if name.hasPrefix(LayerEntry.whiteoutPrefix) {
                let target = (parent.isEmpty ? "" : parent + "/") + String(name.dropFirst(LayerEntry.whiteoutPrefix.count))
                try Self.ensureInside(rootPath, parent, raw: raw)
                switch whiteouts {
                case .apply: try? FileManager.default.removeItem(atPath: rootPath + "/" + target)
                case .overlay: try Self.makeWhiteout(rootPath + "/" + target, raw: raw)
                }
                report.whiteouts += 1
                continue
            }

            let type = archive_entry_filetype(entry)
            if type == slipway_ae_ifchr() || type == slipway_ae_ifblk() {
                guard limits.allowDevices else {
                    throw OCIError.invalidContent("layer entry '\(raw)': device files are not allowed")
                }
            }
            if type == slipway_ae_ifsock() { continue }
            try Self.ensureInside(rootPath, parent, raw: raw)
            if let link = archive_entry_hardlink_utf8(entry).map({ String(cString: $0) }) ?? archive_entry_hardlink(entry).map({ String(cString: $0) }) {
                let target: String
                do {
                    target = try Self.clean(link)
                } catch {
                    throw OCIError.invalidContent("layer entry '\(raw)': hardlink target '\(link)' leaves the root ('..' is not allowed, nor absolute paths)")
                }
                guard !target.isEmpty else { throw OCIError.invalidContent("layer entry '\(raw)': hardlink to the root") }
                try Self.ensureInside(rootPath, target, raw: raw, includingLast: true)
                archive_entry_set_hardlink_utf8(entry, rootPath + "/" + target)
            }
            archive_entry_set_pathname_utf8(entry, rootPath + "/" + path)
            Self.keepCarriedXattrs(entry)

            guard archive_write_header(disk, entry) >= ARCHIVE_WARN else {
                throw OCIError.invalidContent("layer entry '\(raw)': \(LayerWriter.message(disk))")
            }
            if size > 0 {
                var buffer: UnsafeRawPointer?
                var length = 0
                var offset: la_int64_t = 0
                while true {
                    let read = archive_read_data_block(reader, &buffer, &length, &offset)
                    if read == ARCHIVE_EOF { break }
                    guard read >= ARCHIVE_WARN else { throw failure(raw, reader) }
                    report.bytes += Int64(length)
                    guard report.bytes <= limits.maxTotalBytes else {
                        throw SizeLimitExceeded(entry: raw, limit: limits.maxTotalBytes)
                    }
                    guard archive_write_data_block(disk, buffer, length, offset) >= ARCHIVE_WARN else {
                        throw OCIError.invalidContent("layer entry '\(raw)': \(LayerWriter.message(disk))")
                    }
                }
            }
            guard archive_write_finish_entry(disk) >= ARCHIVE_WARN else {
                throw OCIError.invalidContent("layer entry '\(raw)': \(LayerWriter.message(disk))")
            }
            written.insert(path)
        }
        guard stream.drain() else { throw failure(nil, reader) }
        report.uncompressedBytes = stream.count
        if let expectedDiffID {
            let actual = stream.hasher.finalize()
            guard actual == expectedDiffID else {
                throw OCIError.invalidContent(
                    "the layer's uncompressed content has digest \(actual), but the image's config claims diffID \(expectedDiffID); refusing the layer")
            }
        }
        return report
    }

    /// Drops every extended attribute a layer may not carry (``ExtendedAttributes``): a tar
    /// that brings `trusted.overlay.*` must not steer the overlay built from it.
    static func keepCarriedXattrs(_ entry: OpaquePointer) {
        guard archive_entry_xattr_count(entry) > 0 else { return }
        var kept: [(String, [UInt8])] = []
        archive_entry_xattr_reset(entry)
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK {
            guard let name else { continue }
            let text = String(cString: name)
            guard ExtendedAttributes.isCarried(text) else { continue }
            kept.append((text, value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []))
        }
        archive_entry_xattr_clear(entry)
        for (text, bytes) in kept {
            bytes.withUnsafeBytes { archive_entry_xattr_add_entry(entry, text, $0.baseAddress, $0.count) }
        }
    }

    /// `./a//b/` → `a/b`; refuses absolute paths and `..`.
    static func clean(_ raw: String) throws -> String {
        guard !raw.hasPrefix("/") else { throw OCIError.invalidContent("layer entry '\(raw)': absolute paths are not allowed") }
        let parts = raw.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        guard !parts.contains("..") else { throw OCIError.invalidContent("layer entry '\(raw)': '..' is not allowed in paths") }
        return parts.joined(separator: "/")
    }

    /// Every existing component of `relative` (but the last, unless asked) must be a real
    /// directory: reaching through a symlink could leave the root.
    static func ensureInside(_ root: String, _ relative: String, raw: String, includingLast: Bool = true) throws {
        guard !relative.isEmpty else { return }
        var current = root
        let parts = relative.split(separator: "/")
        for (index, part) in parts.enumerated() {
            current += "/" + part
            var info = stat()
            guard lstat(current, &info) == 0 else { return }  // not there yet: nothing to reach through
            let isLast = index == parts.count - 1
            if FileMode.type(UInt32(info.st_mode)) == FileMode.symlink && (!isLast || includingLast) {
                throw OCIError.invalidContent("layer entry '\(raw)': path goes through the symlink '\(parts[0...index].joined(separator: "/"))'")
            }
        }
    }

    /// overlayfs's whiteout: a character device 0/0 where the deleted entry was.
    static func makeWhiteout(_ path: String, raw: String) throws {
        try FileManager.default.createDirectory(atPath: String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]), withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: path)
        guard mknod(path, S_IFCHR, 0) == 0 else {
            throw OCIError.invalidContent("layer entry '\(raw)': cannot create an overlay whiteout: \(String(cString: strerror(errno)))")
        }
    }

    /// overlayfs's opaque directory: lower layers' contents are hidden.
    static func markOpaque(_ directory: String, raw: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard setxattr(directory, DirectoryScanner.opaqueAttribute, "y", 1, 0) == 0 else {
            throw OCIError.invalidContent("layer entry '\(raw)': cannot mark the directory opaque: \(String(cString: strerror(errno)))")
        }
    }

    /// Opaque whiteout: removes what lower layers put in `directory`, keeping this layer's entries.
    static func clearDirectory(_ directory: String, keeping written: Set<String>, relative: String) throws {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where !written.contains(relative.isEmpty ? name : relative + "/" + name) {
            try FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }
}
