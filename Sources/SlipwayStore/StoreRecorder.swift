public import SlipwayKernel
import Synchronization

/// Writes a run's events to a store as they happen: a ``RunObserver`` (called in event order,
/// under the stream's lock, so it only queues) with one writer task that stores what has
/// queued up in one transaction at a time, in order. ``finish()`` waits until everything is
/// stored and says whether the store failed.
///
/// A finished `build` step (its outputs carry the image digest and the build report) also
/// becomes an ``ImageRecord`` of the run's task — the pipeline's name — so the dependency graph
/// base-image triggers read is kept by every run, whoever started it.
public final class StoreRecorder: RunObserver {
    private struct State {
        var pending: [RunEvent] = []
        /// Each run's pipeline name, from its `run.queued` event.
        var pipelines: [String: String] = [:]
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

    public convenience init(store: any SlipwayStore) {
        self.init { store }
    }

    /// Opens the store on the writer's own time, so a run's start does not wait for it (events
    /// queue meanwhile). A store that cannot be opened is the recorder's failure.
    public init(opening open: @escaping @Sendable () throws -> any SlipwayStore) {
        let (signals, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let shared = Shared()
        self.shared = shared
        self.wake = wake
        writer = Task {
            let store: (any SlipwayStore)?
            do {
                store = try await BlockingWork.run { try open() }
            } catch {
                shared.value.withLock { $0.failure = error }
                store = nil
            }
            for await _ in signals {
                while true {
                    let batch = shared.value.withLock { current -> [RunEvent] in
                        defer { current.pending = [] }
                        return current.pending
                    }
                    if batch.isEmpty { break }
                    // Without a store, what queues is dropped; finish() reports why.
                    guard let store else { continue }
                    do {
                        try await store.append(batch)
                        for image in Self.images(in: batch, shared: shared) { try await store.recordImage(image) }
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

    /// Images that builds in `events` produced, with their bases.
    private static func images(in events: [RunEvent], shared: Shared) -> [ImageRecord] {
        var images: [ImageRecord] = []
        for event in events {
            if event.kind == .runQueued, let pipeline = event.pipeline {
                shared.value.withLock { $0.pipelines[event.run] = pipeline }
            }
            guard event.kind == .stepFinished, event.status == .succeeded, let outputs = event.outputs,
                case .string(let digest)? = outputs["digest"], let report = outputs["report"],
                let task = shared.value.withLock({ $0.pipelines[event.run] })
            else { continue }
            func base(_ value: ConfigValue?) -> BaseImage? {
                guard case .string(let reference)? = value?["reference"], case .string(let digest)? = value?["digest"] else { return nil }
                return BaseImage(reference: reference, digest: digest)
            }
            var buildTime: [BaseImage] = []
            if case .array(let items)? = report["build_time_bases"] { buildTime = items.compactMap { base($0) } }
            var tags: [String] = []
            if case .array(let items)? = outputs["tags"] { tags = items.compactMap { if case .string(let tag) = $0 { tag } else { nil } } }
            let reference = tags.first
            var platform = ""
            if case .string(let text)? = outputs["platform"] { platform = text }
            let layers = report["layers"].flatMap { try? ConfigValueDecoder().decode([LayerOrigin].self, from: $0) }
            images.append(ImageRecord(
                task: task, run: event.run, reference: reference, digest: digest, platform: platform,
                runtimeBase: base(report["runtime_base"]), buildTimeBases: buildTime, layers: layers, tags: tags, recorded: event.time))
        }
        return images
    }
}
