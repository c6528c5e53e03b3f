public import SlipwayKernel
import Synchronization

/// Writes a run's events to a store as they happen: a ``RunObserver`` (called in event order,
/// under the stream's lock, so it only queues) with one writer task that stores what has
/// queued up in one transaction at a time, in order. ``finish()`` waits until everything is
/// stored and says whether the store failed.
public final class StoreRecorder: RunObserver {
    private struct State {
        var pending: [RunEvent] = []
        var finished = false
        var failure: (any Error)?
    }

    /// Shared with the writer task, which exists before `self` does.
    private final class Shared: Sendable {
        let value = Mutex(State())
    }

    private let shared: Shared
    private let wake: AsyncStream<Void>.Continuation
    private let writer: Task<Void, Never>

    public init(store: any SlipwayStore) {
        let (signals, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let shared = Shared()
        self.shared = shared
        self.wake = wake
        writer = Task {
            for await _ in signals {
                while true {
                    let batch = shared.value.withLock { current -> [RunEvent] in
                        defer { current.pending = [] }
                        return current.pending
                    }
                    if batch.isEmpty { break }
                    do {
                        try await store.append(batch)
                    } catch {
                        shared.value.withLock { if $0.failure == nil { $0.failure = error } }
                    }
                }
                if shared.value.withLock({ $0.finished && $0.pending.isEmpty }) { return }
            }
        }
    }

    public func observe(_ event: RunEvent) {
        shared.value.withLock { $0.pending.append(event) }
        wake.yield()
    }

    /// Stores what is queued and stops.
    /// - Throws: the first error the store gave.
    public func finish() async throws {
        shared.value.withLock { $0.finished = true }
        wake.yield()
        wake.finish()
        await writer.value
        if let failure = shared.value.withLock({ $0.failure }) { throw failure }
    }
}
