import Foundation
import SlipwayOCI
import Synchronization

/// A one-line transfer display on stderr, redrawn at most ten times a second; nothing at all
/// when stderr is not a terminal (logs stay clean).
final class TransferProgressView: Sendable {
    private struct State {
        var blobs: [Digest: (size: Int64, done: Int64, finished: Bool)] = [:]
        var lastDraw = ContinuousClock.now - .seconds(1)
    }

    private let verb: String
    private let state = Mutex(State())

    /// nil when stderr is not a terminal.
    static func forTerminal(_ verb: String) -> TransferProgressView? {
        isatty(STDERR_FILENO) == 1 ? TransferProgressView(verb: verb) : nil
    }

    private init(verb: String) { self.verb = verb }

    func update(_ progress: RegistryClient.TransferProgress) {
        let line: String? = state.withLock { state in
            var entry = state.blobs[progress.digest] ?? (progress.size, 0, false)
            switch progress.phase {
            case .started: break
            case .transferred(let bytes): entry.done = bytes
            case .finished:
                entry.done = entry.size
                entry.finished = true
            }
            state.blobs[progress.digest] = entry
            guard ContinuousClock.now - state.lastDraw > .milliseconds(100) || entry.finished else { return nil }
            state.lastDraw = .now
            let finished = state.blobs.values.filter(\.finished).count
            let done = state.blobs.values.reduce(0) { $0 + $1.done }
            let total = state.blobs.values.reduce(0) { $0 + $1.size }
            return "\r\(verb): \(finished)/\(state.blobs.count) blobs, \(Self.bytes(done)) of \(Self.bytes(total))\u{1B}[K"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}
