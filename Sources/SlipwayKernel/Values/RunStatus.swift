/// Where a run or a step stands. Runs and steps share the vocabulary.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed, canceled
    case timedOut = "timed_out"
    case skipped
    /// Its server stopped while it ran (`slipway serve` marks it at the next start).
    case interrupted

    /// Succeeded, or failed in a way the pipeline chose to ignore.
    public var isFinished: Bool { self != .queued && self != .running }
}
