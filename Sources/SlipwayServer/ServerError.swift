public import SlipwayKernel

/// What the server refuses or cannot do. Its ``ErrorCategory`` picks the HTTP status (invalid
/// input 400, not found 404, a conflict 409...) and the CLI's exit code.
public struct ServerError: CategorizedError, CustomStringConvertible, Sendable {
    public var category: ErrorCategory
    public var description: String

    public init(_ category: ErrorCategory, _ description: String) {
        self.category = category
        self.description = description
    }
}
