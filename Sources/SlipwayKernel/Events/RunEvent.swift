public import Foundation

/// One thing that happened in a run. Events are the only way out of a run: the CLI renders
/// them, and the state store and the server subscribe to them.
///
/// Every event carries the run id and a sequence number (1, 2, 3… in the order observers
/// receive them), so a subscriber can tell a gap or a repeat. The fields an event uses depend
/// on its kind; the rest are nil. Texts (log lines, errors) are masked for the run's secrets
/// before any observer sees them. `Docs/Events.md` documents the JSON form; its `schema` field
/// changes only when a field changes meaning or goes away (new fields and kinds may appear).
public struct RunEvent: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case runQueued = "run.queued"
        case runStarted = "run.started"
        case runFinished = "run.finished"
        case stepQueued = "step.queued"
        case stepStarted = "step.started"
        case stepAttempt = "step.attempt"
        case stepRetrying = "step.retrying"
        case stepFinished = "step.finished"
        case log
        case progress
    }

    public static let currentSchema = "slipway.run-event.v1"

    public var schema = RunEvent.currentSchema
    public var kind: Kind
    public var run: String
    public var sequence: Int
    public var time: Date
    /// run.queued: the pipeline's name and how many steps it has.
    public var pipeline: String?
    public var steps: Int?
    /// `run.queued`: each step's id and the steps it waits for (the pipeline's graph).
    public var graph: [String: [String]]?
    /// step.*, and log and progress lines a step wrote (nil: the run itself).
    public var step: StepID?
    /// step.queued: the step's plugin kind.
    public var stepKind: String?
    /// step.attempt, step.retrying: the attempt's number (1 = first), counting repeats.
    public var attempt: Int?
    /// run.finished, step.finished.
    public var status: RunStatus?
    public var durationSeconds: Double?
    /// Why it did not succeed (run.finished, step.finished), or why an attempt failed (step.retrying).
    public var error: String?
    public var exitCode: Int32?
    /// step.finished: what kind of failure it was (invalid input, not found, failed…).
    public var errorCategory: ErrorCategory?
    /// step.finished: what dependents read.
    public var outputs: [String: ConfigValue]?
    /// step.retrying: the wait before the next attempt.
    public var delaySeconds: Double?
    /// step.finished: the step failed, but `ignore_errors` let the run go on.
    public var ignoredFailure: Bool?
    /// log.
    public var level: LogLine.Level?
    public var text: String?
    /// progress: what is moving (a layer, a blob), how far, out of how much (nil: unknown).
    public var label: String?
    public var completed: Int64?
    public var total: Int64?

    public init(kind: Kind, run: String, sequence: Int, time: Date) {
        self.kind = kind
        self.run = run
        self.sequence = sequence
        self.time = time
    }

    enum CodingKeys: String, CodingKey {
        case schema, kind, run, sequence, time, pipeline, steps, graph, step
        case stepKind = "step_kind"
        case attempt, status
        case durationSeconds = "duration_s"
        case error
        case exitCode = "exit_code"
        case errorCategory = "error_category"
        case outputs
        case delaySeconds = "delay_s"
        case ignoredFailure = "ignored_failure"
        case level, text, label, completed, total
    }

    /// A log event as the log line it carries.
    public var logLine: LogLine? {
        guard kind == .log, let level, let text else { return nil }
        return LogLine(time: time, step: step, level: level, text: text)
    }
}

/// Receives a run's events in order, one at a time: the engine never calls an observer for two
/// events of a run at once. It must return quickly (a slow observer slows the run) and must not
/// throw: what it cannot handle it drops and says so elsewhere.
public protocol RunObserver: Sendable {
    func observe(_ event: RunEvent)
}
