import Foundation
import Glibc
import SlipwayOCI

/// Writes planned layer entries out as files under a fresh folder (a bind mount's private
/// copy). Every path is resolved inside that folder, so an entry's symlink can never lead a
/// later entry outside it; nothing is followed on the host.
struct EntryMaterializer {
    let root: URL

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func write(_ entries: [LayerEntry]) throws {
        let tree = DirectoryTree(root: root)
        for entry in entries {
            let parent = (entry.path as NSString).deletingLastPathComponent
            if !parent.isEmpty { try tree.makeDirectories(parent) }
            let target = try tree.url(resolving: entry.path, followingFinalLink: false)
            let path = target.path
            switch entry.content {
            case .directory:
                if mkdir(path, 0o700) != 0 && errno != EEXIST { throw failure(entry, "mkdir") }
            case .file(let source, _):
                do {
                    try FileManager.default.copyItem(at: source, to: target)
                } catch {
                    throw Failure(description: "cannot copy \(entry.path) for the mount: \(error.localizedDescription)")
                }
            case .bytes(let data):
                guard FileManager.default.createFile(atPath: path, contents: data) else { throw failure(entry, "create") }
            case .symlink(let destination):
                if symlink(destination, path) != 0 { throw failure(entry, "symlink") }
            case .hardlink(let other):
                let existing = try tree.url(resolving: other, followingFinalLink: false)
                if link(existing.path, path) != 0 { throw failure(entry, "link") }
            case .fifo:
                if mkfifo(path, 0o600) != 0 { throw failure(entry, "mkfifo") }
            }
            if case .symlink = entry.content {
                lchown(path, entry.uid, entry.gid)
                continue
            }
            if lchown(path, entry.uid, entry.gid) != 0 || chmod(path, mode_t(entry.mode)) != 0 { throw failure(entry, "set owner and mode of") }
        }
    }

    private func failure(_ entry: LayerEntry, _ operation: String) -> Failure {
        Failure(description: "cannot \(operation) \(entry.path) for the mount: \(String(cString: strerror(errno)))")
    }
}
