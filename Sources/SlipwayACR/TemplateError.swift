public import SlipwayKernel

/// A template that cannot be parsed or rendered, with the file and line of the action.
public struct TemplateError: CategorizedError, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var category: ErrorCategory { .invalidInput }

    public var description: String { "\(file):\(line): template: \(message)" }
}
