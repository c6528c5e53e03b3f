import Foundation
public import SlipwayKernel
import Synchronization

/// The one way out of a run: stamps each event with the run id, the next sequence number and
/// the time, masks its texts for the run's secrets, and hands it to every observer. Numbering
/// and delivery happen under one lock, so observers see events in sequence order even when
/// parallel steps emit at once. Nothing is kept: a run's output streams through.
public final class RunEventStream: Sendable {
    public let runID: String
    private let masker: SecretMasker
    private let observers: [any RunObserver]
    private let sequence = Mutex<Int>(0)

    public init(runID: String, secrets: some Sequence<String>, observers: [any RunObserver]) {
        self.runID = runID
        masker = SecretMasker(secrets: secrets)
        self.observers = observers
    }

    /// Emits one event of `kind`; `fill` sets the fields that kind uses.
    public func emit(_ kind: RunEvent.Kind, _ fill: (inout RunEvent) -> Void = { _ in }) {
        sequence.withLock { counter in
            counter += 1
            var event = RunEvent(kind: kind, run: runID, sequence: counter, time: Date())
            fill(&event)
            event.text = event.text.map(masker.mask)
            event.error = event.error.map(masker.mask)
            event.outputs = event.outputs.map { $0.mapValues(mask) }
            for observer in observers { observer.observe(event) }
        }
    }

    /// A log line of the run (`step` nil) or of one of its steps.
    public func log(step: StepID?, _ level: LogLine.Level, _ text: String) {
        emit(.log) {
            $0.step = step
            $0.level = level
            $0.text = text
        }
    }

    /// Output values are masked too: a step may echo a secret into what dependents read.
    private func mask(_ value: ConfigValue) -> ConfigValue {
        switch value {
        case .string(let text): .string(masker.mask(text))
        case .array(let items): .array(items.map(mask))
        case .object(let fields): .object(fields.mapValues(mask))
        default: value
        }
    }
}

/// Progress reported by plugins (`context.progress`), as `progress` events of the run. A
/// download reports every buffer it receives; an entry's first and last reports always become
/// events, and in between at most one per `interval`, so a log or a JSON reader is not flooded.
final class ProgressEvents: ProgressSink {
    let stream: RunEventStream
    let interval: Duration = .milliseconds(200)
    private let lastEmitted = Mutex<[String: ContinuousClock.Instant]>([:])

    init(stream: RunEventStream) { self.stream = stream }

    func report(_ progress: StepProgress) {
        let key = "\(progress.step.rawValue)\u{0}\(progress.label)"
        let finished = progress.total.map { progress.completed >= $0 } ?? false
        let due = lastEmitted.withLock { last in
            let now = ContinuousClock.now
            if finished {
                last[key] = nil
                return true
            }
            if let previous = last[key], now - previous < interval { return false }
            last[key] = now
            return true
        }
        guard due else { return }
        stream.emit(.progress) {
            $0.step = progress.step
            $0.label = progress.label
            $0.completed = progress.completed
            $0.total = progress.total
        }
    }
}
