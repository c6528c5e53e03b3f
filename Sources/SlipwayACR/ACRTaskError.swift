public import SlipwayKernel

/// An acr-task.yaml that Slipway cannot run as written: the file, the line, and what to change.
public struct ACRTaskError: CategorizedError, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var category: ErrorCategory { .invalidInput }

    public var description: String { "\(file):\(line): \(message)" }
}
