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

    public init(kind: Kind, url: String, status: Int? = nil, message: String) {
        self.kind = kind
        self.url = url
        self.status = status
        self.message = message
    }

    public var description: String {
        "\(url)" + (status.map { ": HTTP \($0)" } ?? "") + ": \(message)"
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
