public import Foundation

/// A webhook POST a run's `on_success` / `on_failure` hook asked for: `notify { url = …, body = … }`.
public struct NotificationRequest: Sendable, Hashable, Codable {
    /// http or https.
    public var url: String
    public var body: Data
    public var contentType: String
    public var headers: [String: String]
    /// Where `notify` was called.
    public var location: SourceLocation

    public init(url: String, body: Data, contentType: String, headers: [String: String] = [:], location: SourceLocation) {
        self.url = url
        self.body = body
        self.contentType = contentType
        self.headers = headers
        self.location = location
    }
}

/// How a notification went: delivered with the receiver's status, or given up on.
public struct NotificationOutcome: Sendable, Hashable {
    public var status: Int?
    public var attempts: Int
    public var error: String?

    public init(status: Int?, attempts: Int, error: String? = nil) {
        self.status = status
        self.attempts = attempts
        self.error = error
    }

    public var delivered: Bool { error == nil }
}

/// Sends what hooks ask to be sent, retrying what fails. The host gives one to runs through
/// ``HostServices``; the engine reports each outcome in the run's log, so the run record keeps it.
public protocol Notifier: Sendable {
    func deliver(_ request: NotificationRequest) async -> NotificationOutcome
}

public enum NotifierService: HostServiceKey { public typealias Value = any Notifier }

extension HostServices {
    public var notifier: (any Notifier)? {
        get { self[NotifierService.self] }
        set { self[NotifierService.self] = newValue }
    }
}
