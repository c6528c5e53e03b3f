/// A step failed, in terms a user can act on. Plugins throw it to control the message; the
/// engine wraps other errors in it.
public struct StepFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var step: StepID
    public var message: String
    /// An exit code, when the step ran a process.
    public var exitCode: Int32?

    public init(step: StepID, message: String, exitCode: Int32? = nil) {
        self.step = step
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String {
        "step '\(step)': \(message)" + (exitCode.map { " (exit code \($0))" } ?? "")
    }
}

extension StepFailure: CategorizedError {
    public var category: ErrorCategory { .failed }
}
