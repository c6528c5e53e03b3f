import Foundation
import Glibc

/// An overlayfs mount of read-only layers under a writable upper directory.
struct OverlayMount: Sendable {
    let target: URL
    let upper: URL

    /// - Parameters:
    ///   - lowers: bottom layer first, as images list them.
    ///   - links: a folder for short symlinks to the lower layers, which keeps the mount's
    ///     option string inside the kernel's one-page limit for deep images.
    static func mount(lowers: [URL], upper: URL, work: URL, target: URL, links: URL) throws -> OverlayMount {
        var paths: [String] = []
        try FileManager.default.createDirectory(at: links, withIntermediateDirectories: true)
        // overlayfs refuses the same lower directory twice (ELOOP), which two identical layers
        // (`RUN true` twice) give. Only the topmost copy matters: everything the lower copy
        // shows, the upper one shows again above whatever lies between them.
        var seen = Set<String>()
        let distinct = lowers.reversed().filter { seen.insert($0.standardizedFileURL.path).inserted }.reversed()
        let layers = distinct.isEmpty ? [links.appendingPathComponent("empty")] : Array(distinct)
        if distinct.isEmpty { try FileManager.default.createDirectory(at: layers[0], withIntermediateDirectories: true) }
        for (index, lower) in layers.reversed().enumerated() {  // overlayfs wants the top layer first
            let link = links.appendingPathComponent(String(index, radix: 36))
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: lower.path)
            paths.append(link.path)
        }
        let options = "lowerdir=\(paths.joined(separator: ":")),upperdir=\(upper.path),workdir=\(work.path)"
        guard options.utf8.count < 4000 else {
            throw RuntimeError.setup("the image has too many layers (\(lowers.count)) for one overlay mount")
        }
        guard Glibc.mount("overlay", target.path, "overlay", 0, options) == 0 else {
            let reason = String(cString: strerror(errno))
            throw errno == ENODEV
                ? RuntimeError.unavailable("the kernel has no overlay file system (\(reason))")
                : RuntimeError.setup("overlay mount on \(target.path) failed: \(reason)")
        }
        return OverlayMount(target: target, upper: upper)
    }

    func unmount() {
        if umount2(target.path, 0) != 0 { _ = umount2(target.path, Int32(MNT_DETACH)) }
    }
}
