public import SlipwayKernel
import Synchronization

/// Keeps every event of a run it observes, for assertions: the events themselves, and the log
/// lines among them.
public final class CapturingObserver: RunObserver, Sendable {
    private let captured = Mutex<[RunEvent]>([])

    public init() {}

    public func observe(_ event: RunEvent) { captured.withLock { $0.append(event) } }

    public var events: [RunEvent] { captured.withLock { $0 } }

    /// The `log` events, as lines.
    public var lines: [LogLine] { events.compactMap(\.logLine) }

    /// All log text, one line each, as a user would read it.
    public var text: String { lines.map(\.formatted).joined(separator: "\n") }
}
