public import SlipwayKernel

/// A problem with OCI content: malformed input, content that does not match its digest, or an
/// image that is not there. Each says what and where.
public struct OCIError: CategorizedError, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public let category: ErrorCategory

    init(_ description: String, _ category: ErrorCategory) {
        self.description = description
        self.category = category
    }

    public static func invalidDigest(_ text: String) -> OCIError {
        OCIError("invalid digest '\(text)': expected sha256:<64 hex> or sha512:<128 hex>", .invalidInput)
    }
    public static func invalidReference(_ text: String, _ why: String) -> OCIError {
        OCIError("invalid image reference '\(text)': \(why)", .invalidInput)
    }
    public static func digestMismatch(expected: Digest, actual: Digest, source: String) -> OCIError {
        OCIError("content from \(source) does not match its digest: expected \(expected), got \(actual)", .internal)
    }
    public static func sizeMismatch(expected: Int64, actual: Int64, source: String) -> OCIError {
        OCIError("content from \(source) has \(actual) bytes, expected \(expected)", .internal)
    }
    public static func notFound(_ what: String) -> OCIError { OCIError("\(what) not found", .notFound) }
    public static func unsupported(_ what: String) -> OCIError { OCIError("unsupported: \(what)", .invalidInput) }
    /// Content or storage that is not as it should be (a malformed blob, a file that cannot be
    /// written): not the user's input.
    public static func invalidContent(_ what: String) -> OCIError { OCIError(what, .internal) }
    /// Something the user wrote (a platform, a tag name) that is not valid.
    public static func invalidInput(_ what: String) -> OCIError { OCIError(what, .invalidInput) }
}
