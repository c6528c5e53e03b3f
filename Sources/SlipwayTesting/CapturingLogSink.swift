public import SlipwayKernel
import Synchronization

/// Keeps every log line it receives, for assertions.
public final class CapturingLogSink: LogSink, Sendable {
    private let captured = Mutex<[LogLine]>([])

    public init() {}

    public func write(_ line: LogLine) { captured.withLock { $0.append(line) } }

    public var lines: [LogLine] { captured.withLock { $0 } }

    /// All text, one line each, as a user would read it.
    public var text: String { lines.map(\.formatted).joined(separator: "\n") }
}
