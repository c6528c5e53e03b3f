public import SlipwayKernel

/// A registry said no, or could not be reached. Names the registry URL and, when the registry
/// sent one, its error code and message (distribution spec error body).
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case unauthorized, denied, notFound = "not_found", rejected, unavailable, transport, invalidResponse = "invalid_response"
    }

    public var kind: Kind
    /// The URL of the request that failed.
    public var url: String
    public var status: Int?
    public var message: String
    /// The transport's own error behind a `transport` failure, kept as a value.
    public var cause: (any Error)? { underlying?.error }
    private var underlying: Cause?

    public init(kind: Kind, url: String, status: Int? = nil, message: String, cause: (any Error)? = nil) {
        self.kind = kind
        self.url = url
        self.status = status
        self.message = message
        self.underlying = cause.map(Cause.init)
    }

    public var description: String {
        "\(url)" + (status.map { ": HTTP \($0)" } ?? "") + ": \(message)" + (cause.map { ": \($0)" } ?? "")
    }

    public static func == (lhs: RegistryError, rhs: RegistryError) -> Bool {
        (lhs.kind, lhs.url, lhs.status, lhs.description) == (rhs.kind, rhs.url, rhs.status, rhs.description)
    }

    /// `catch` hands errors over as `any Error`, which is not Sendable; the transport's errors
    /// are immutable values, so carrying one across is safe.
    private struct Cause: @unchecked Sendable {
        let error: any Error
    }
}

extension RegistryError: CategorizedError {
    public var category: ErrorCategory {
        switch kind {
        case .unauthorized, .denied: .unauthorized
        case .notFound: .notFound
        case .rejected: .invalidInput
        case .unavailable, .transport: .transient
        case .invalidResponse: .internal
        }
    }
}
