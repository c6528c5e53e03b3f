/// Everything wrong with a pipeline before it runs, reported together: unknown kinds, bad
/// configuration, duplicate ids, references to unknown steps, cycles.
public struct PipelineValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var location: SourceLocation?
        public var step: StepID?
        public var message: String

        public init(location: SourceLocation?, step: StepID?, message: String) {
            self.location = location
            self.step = step
            self.message = message
        }

        public var description: String {
            var text = location.map { "\($0): " } ?? ""
            if let step { text += "step '\(step)': " }
            return text + message
        }
    }

    public var problems: [Problem]

    public init(problems: [Problem]) { self.problems = problems }

    public var description: String {
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        return "invalid pipeline (\(count)):\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}

extension PipelineValidationError: CategorizedError {
    public var category: ErrorCategory { .invalidInput }
}
