/// What kind of failure an error is. One place decides what each kind means to the outside:
/// the CLI's exit status now, the server's HTTP status later.
public enum ErrorCategory: String, Sendable, Codable, CaseIterable {
    /// The input was wrong: a recipe, a Dockerfile, a flag, a reference (fix it and try again).
    case invalidInput = "invalid_input"
    /// Something named does not exist: an image, a tag, a ref.
    case notFound = "not_found"
    /// Credentials are missing, wrong or not enough.
    case unauthorized
    /// The request clashes with the state of things (a name already taken, a lock held).
    case conflict
    /// A passing fault (a registry down, a connection lost): the same request may succeed later.
    case transient
    /// The work ran and failed on its own terms: a command exited non-zero, a test failed.
    case failed
    /// Anything else, Slipway's own fault included.
    case `internal`

    /// 64 (EX_USAGE) for invalid input, 1 for everything else.
    public var exitCode: Int32 { self == .invalidInput ? 64 : 1 }

    public var httpStatus: Int {
        switch self {
        case .invalidInput: 400
        case .notFound: 404
        case .unauthorized: 401
        case .conflict: 409
        case .transient: 503
        case .failed: 422
        case .internal: 500
        }
    }

    /// The category `error` says it is in, or ``internal`` when it says nothing.
    public static func of(_ error: any Error) -> ErrorCategory { (error as? any CategorizedError)?.category ?? .internal }
}

/// An error that says what kind of failure it is (``ErrorCategory``). Public error types
/// conform, so no caller maps errors by their type or their text.
public protocol CategorizedError: Error {
    var category: ErrorCategory { get }
    /// The error this one wraps (a registry's refusal behind a failed FROM), kept as a value so
    /// a caller can still ask what it was; nil when this error is the first.
    var cause: (any Error)? { get }
}

extension CategorizedError {
    public var cause: (any Error)? { nil }
}

extension ErrorCategory {
    /// `error` and what it wraps, outermost first (at most 16: a cycle cannot hang a report).
    public static func chain(of error: any Error) -> [any Error] {
        var chain: [any Error] = [error]
        while chain.count < 16, let next = (chain.last as? any CategorizedError)?.cause { chain.append(next) }
        return chain
    }
}
