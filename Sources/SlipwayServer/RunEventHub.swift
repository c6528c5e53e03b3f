public import SlipwayKernel
import Synchronization

/// Live events of the server's runs, fanned out to whoever follows a run (`logs -f`, the
/// dashboard). A ``RunObserver``: called under the run's event lock, so it only hands each event
/// to its followers' buffers. The store keeps everything; the hub keeps nothing once delivered.
public final class RunEventHub: RunObserver, Sendable {
    private struct Follower {
        let run: String
        let continuation: AsyncStream<RunEvent>.Continuation
    }

    private let followers = Mutex([Int: Follower]())
    private let nextID = Atomic<Int>(0)

    public init() {}

    public func observe(_ event: RunEvent) {
        let targets = followers.withLock { $0.values.filter { $0.run == event.run } }
        for follower in targets {
            follower.continuation.yield(event)
            if event.kind == .runFinished { follower.continuation.finish() }
        }
    }

    /// The events of `run` from now on, ending after its `run.finished`. Follow first, then read
    /// the store, and skip what the store already gave (by sequence): nothing falls in between.
    public func follow(_ run: String) -> AsyncStream<RunEvent> {
        let id = nextID.add(1, ordering: .relaxed).newValue
        // Log lines of a busy run must not grow a slow follower's buffer without bound.
        let (stream, continuation) = AsyncStream<RunEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        continuation.onTermination = { [weak self] _ in _ = self?.followers.withLock { $0.removeValue(forKey: id) } }
        followers.withLock { $0[id] = Follower(run: run, continuation: continuation) }
        return stream
    }

    /// Ends every follow (the server is stopping).
    public func closeAll() {
        let targets = followers.withLock { Array($0.values) }
        for follower in targets { follower.continuation.finish() }
    }

    /// Ends every follow of `run` (a run closed without events: canceled while queued).
    public func close(_ run: String) {
        let targets = followers.withLock { $0.values.filter { $0.run == run } }
        for follower in targets { follower.continuation.finish() }
    }
}
