/// Where a layer's tar stream is cut into independently compressed chunks. The cuts depend only
/// on the entries (their paths and sizes), never on the bytes of other entries or how the
/// stream arrives, so a file that changes moves no cut outside its own chunk and every other
/// chunk compresses to the bytes it had before: an edit costs one chunk of compression.
///
/// - A large entry (at least `pieceSize` of content) starts a chunk of its own and is cut every
///   `pieceSize` bytes from its header on.
/// - Small entries are grouped. A group ends after an entry whose path hashes to 0 modulo
///   `groupDivisor` (so cuts stay put when sizes change), or once it holds `pieceSize` bytes.
/// - No chunk grows past `hardLimit`, whatever the hints.
struct LayerChunking: Sendable, Hashable {
    static let standard = LayerChunking(pieceSize: 1 << 20, groupDivisor: 16, hardLimit: 4 << 20)

    var pieceSize: Int
    var groupDivisor: UInt64
    var hardLimit: Int

    func isLarge(contentSize: Int64) -> Bool { contentSize >= Int64(pieceSize) }

    /// Whether a group of small entries ends after the entry at `path` (now `pending` bytes long).
    func endsGroup(after path: String, pending: Int) -> Bool {
        pending >= pieceSize || Self.fnv1a(path) % groupDivisor == 0
    }

    /// FNV-1a, 64 bits: stable across runs and machines, unlike Swift's seeded `Hasher`.
    static func fnv1a(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }
}
