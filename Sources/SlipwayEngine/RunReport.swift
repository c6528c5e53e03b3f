public import Foundation
public import SlipwayKernel

/// The outcome of one run: its status, each step's, and why it failed.
public struct RunReport: Sendable, Codable {
    public var runID: String
    public var pipeline: String
    public var status: RunStatus
    public var steps: [StepResult]
    /// Why the run did not succeed, in one line.
    public var failure: String?
    public var started: Date
    public var finished: Date

    public func step(_ id: StepID) -> StepResult? { steps.first { $0.id == id } }
}

/// The outcome of one step.
public struct StepResult: Sendable, Codable {
    public var id: StepID
    public var kind: String
    public var status: RunStatus
    /// Attempts made, counting retries and repeats.
    public var attempts: Int
    public var started: Date?
    public var finished: Date?
    public var failure: String?
    /// The exit code the step's last failed attempt reported, when it reported one.
    public var exitCode: Int32?
    /// What kind of failure ended the step (its error's ``ErrorCategory``).
    public var errorCategory: ErrorCategory?
    /// True when the step failed but `ignore_errors` let the run go on.
    public var ignoredFailure: Bool
    public var output: StepOutput?

    init(id: StepID, kind: String, status: RunStatus) {
        self.id = id
        self.kind = kind
        self.status = status
        attempts = 0
        ignoredFailure = false
    }
}
