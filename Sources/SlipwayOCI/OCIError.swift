/// A problem with OCI content: malformed input, content that does not match its digest, or an
/// image that is not there. Each says what and where.
public struct OCIError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }

    public static func invalidDigest(_ text: String) -> OCIError {
        OCIError("invalid digest '\(text)': expected sha256:<64 hex> or sha512:<128 hex>")
    }
    public static func invalidReference(_ text: String, _ why: String) -> OCIError {
        OCIError("invalid image reference '\(text)': \(why)")
    }
    public static func digestMismatch(expected: Digest, actual: Digest, source: String) -> OCIError {
        OCIError("content from \(source) does not match its digest: expected \(expected), got \(actual)")
    }
    public static func sizeMismatch(expected: Int64, actual: Int64, source: String) -> OCIError {
        OCIError("content from \(source) has \(actual) bytes, expected \(expected)")
    }
    public static func notFound(_ what: String) -> OCIError { OCIError("\(what) not found") }
    public static func unsupported(_ what: String) -> OCIError { OCIError("unsupported: \(what)") }
    public static func invalidContent(_ what: String) -> OCIError { OCIError(what) }
}
