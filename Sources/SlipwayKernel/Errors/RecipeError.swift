/// A recipe could not be evaluated: a syntax error, a runtime error, a sandbox refusal, an
/// exhausted limit, or a value that does not fit. It always says where.
public struct RecipeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        case syntax, runtime, sandbox, invalid
        case instructionLimit = "instruction_limit"
        case memoryLimit = "memory_limit"
        case timeLimit = "time_limit"
    }

    public var kind: Kind
    /// Where it happened; the recipe file itself when no line is known.
    public var location: SourceLocation
    public var message: String
    /// The Lua traceback, shown with `--verbose`.
    public var traceback: String?

    public init(kind: Kind, location: SourceLocation, message: String, traceback: String? = nil) {
        self.kind = kind
        self.location = location
        self.message = message
        self.traceback = traceback
    }

    public var description: String { "\(location): \(message)" }
}

extension RecipeError: CategorizedError {
    public var category: ErrorCategory { .invalidInput }
}
