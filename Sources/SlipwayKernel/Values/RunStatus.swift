/// Where a run or a step stands. Runs and steps share the vocabulary.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed, canceled
    case timedOut = "timed_out"
    case skipped

    /// Succeeded, or failed in a way the pipeline chose to ignore.
    public var isFinished: Bool { self != .queued && self != .running }
}
