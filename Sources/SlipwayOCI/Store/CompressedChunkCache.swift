import Foundation
import Glibc

/// Where compressed chunks of the store's layers can be found again: for each chunk, by the
/// SHA-256 of its uncompressed bytes, the layer blob holding its compressed form and the span.
/// The bytes themselves stay in the blobs (nothing is stored twice); an entry whose blob is
/// gone is a miss, and garbage collection removes it.
///
/// One folder per codec name (codec, level and library version), so a chunk is reused only
/// where compressing it again would give the same bytes: a layer's digest never depends on
/// whether its chunks came from the cache.
struct CompressedChunkCache: Sendable {
    struct Location: Sendable, Hashable {
        var blob: Digest
        var offset: Int64
        var length: Int
    }

    let directory: URL
    let store: ContentStore

    /// `<state>/cache/chunks/<codec name>`, beside the store.
    init(beside store: ContentStore, codec: String) {
        directory = StateDirectory(of: store).compressedChunks.appendingPathComponent(codec)
        self.store = store
    }

    /// The compressed bytes cached for the chunk whose uncompressed digest is `key`.
    func lookup(_ key: Digest) -> (bytes: [UInt8], location: Location)? {
        guard let text = try? String(contentsOf: file(for: key), encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count == 3, let blob = try? Digest(parsing: String(fields[0])), let offset = Int64(fields[1]),
            let length = Int(fields[2].trimmingCharacters(in: .whitespacesAndNewlines)), offset >= 0, (1...(64 << 20)).contains(length)
        else { return nil }
        let location = Location(blob: blob, offset: offset, length: length)
        return read(location).map { ($0, location) }
    }

    /// Best effort, as for the instruction cache: a lost entry only costs compressing again.
    func save(_ location: Location, for key: Digest) {
        let target = file(for: key)
        let line = Data("\(location.blob) \(location.offset) \(location.length)\n".utf8)
        if (try? FileReplacement.write(line, to: target, durable: false)) == nil {
            try? FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileReplacement.write(line, to: target, durable: false)
        }
    }

    /// Removes the entries whose blob is no longer in the store.
    static func prune(beside store: ContentStore) {
        let root = StateDirectory(of: store).compressedChunks
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return }
        for case let url as URL in walker where !url.hasDirectoryPath {
            let text = try? String(contentsOf: url, encoding: .utf8)
            let blob = text.flatMap { try? Digest(parsing: String($0.split(separator: " ").first ?? "")) }
            if blob.map(store.contains) != true { try? FileManager.default.removeItem(at: url) }
        }
    }

    private func read(_ location: Location) -> [UInt8]? {
        let descriptor = open(store.blobURL(location.blob).path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var complete = false
        let bytes = [UInt8](unsafeUninitializedCapacity: location.length) { buffer, count in
            while count < location.length {
                let read = pread(descriptor, buffer.baseAddress! + count, location.length - count, off_t(location.offset) + off_t(count))
                guard read > 0 else { return }
                count += read
            }
            complete = true
        }
        return complete ? bytes : nil
    }

    private func file(for key: Digest) -> URL {
        directory.appendingPathComponent(String(key.hex.prefix(2))).appendingPathComponent(key.hex)
    }
}
