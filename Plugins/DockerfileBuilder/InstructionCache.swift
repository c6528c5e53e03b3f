import Foundation
import Glibc
import SlipwayOCI

/// Layers made by earlier builds, found by what made them: the parent layers, the instruction
/// as expanded, the state it ran in, and the identity of every input file. A hit skips the
/// work (no container, no tar, no compression); the layer is the one already in the store.
///
/// Input files are identified the way git's index does it: path, size, mode, owner, inode and
/// change time (ctime, which no user can set back). A changed file always misses; a miss only
/// costs the work, since layers are content-addressed, so two machines that never share a
/// cache still produce the same digests.
struct InstructionCache: Sendable {
    let directory: URL
    let store: ContentStore

    /// `<state>/cache/instructions`, beside the store.
    init(beside store: ContentStore) {
        directory = StateDirectory(of: store).instructionCache
        self.store = store
    }

    struct Record: Codable, Sendable {
        var layer: Descriptor
        var diffID: Digest
    }

    /// The layer made for `key`, if it is still in the store.
    func lookup(_ key: Digest) -> Record? {
        guard let data = FileManager.default.contents(atPath: file(for: key).path),
            let record = try? JSONDecoder().decode(Record.self, from: data), store.contains(record.layer.digest)
        else { return nil }
        return record
    }

    /// Best effort: a cache that cannot be written only makes the next build slower.
    func save(_ record: Record, for key: Digest) {
        guard let data = try? JSONEncoder().encode(record) else { return }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? FileReplacement.write(data, to: file(for: key), durable: false)
    }

    private func file(for key: Digest) -> URL { directory.appendingPathComponent(key.hex) }
}

/// Builds an instruction's cache key from labelled parts, so that no two different inputs can
/// run together into the same bytes.
struct CacheKey {
    private var hasher = DigestHasher()

    /// Every key starts with what any layer of the build depends on: its parent layers and how
    /// layers are written (compression, time clamp).
    init(_ kind: String, parent: [Digest], request: BuildRequest) {
        add("slipway-instruction-cache-v1")
        add(kind)
        add(parent.map(\.description).joined(separator: ","))
        add("\(request.compression.rawValue) \(request.epoch)")
    }

    mutating func add(_ text: String) {
        hasher.update(Data("\(text.utf8.count):".utf8))
        hasher.update(Data(text.utf8))
    }

    mutating func add(_ data: Data) {
        add("bytes\(data.count)")
        hasher.update(data)
    }

    /// A file's identity without reading it (see ``InstructionCache``).
    mutating func addFile(_ url: URL) {
        var info = stat()
        guard lstat(url.path, &info) == 0 else {
            add("missing \(url.path)")
            return
        }
        add("\(url.path) \(info.st_size) \(info.st_mode) \(info.st_uid):\(info.st_gid) \(info.st_dev):\(info.st_ino) "
            + "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec)")
    }

    /// Planned layer entries, in the order the layer writer sorts them (the planner lists
    /// files in directory order, and the key must not depend on it).
    mutating func add(_ entries: [LayerEntry], context: URL) {
        for entry in entries.sorted(by: { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }) { add(entry, context: context) }
    }

    /// One planned layer entry. Files inside `context` count by their identity; any other file
    /// (unpacked from an archive, or from another stage's root) by its bytes.
    mutating func add(_ entry: LayerEntry, context: URL) {
        add("\(entry.path) \(entry.mode) \(entry.uid):\(entry.gid)")
        for xattr in entry.xattrs { add("xattr \(xattr.name)"); add(Data(xattr.value)) }
        switch entry.content {
        case .file(let source, let size):
            if source.path.hasPrefix(context.path + "/") || source.path == context.path {
                addFile(source)
            } else {
                add("file \(size)")
                add(FileManager.default.contents(atPath: source.path) ?? Data())
            }
        case .bytes(let data): add(data)
        case .directory: add("directory")
        case .symlink(let target): add("symlink \(target)")
        case .hardlink(let target): add("hardlink \(target)")
        case .fifo: add("fifo")
        }
    }

    func finish() -> Digest { hasher.finalize() }
}
