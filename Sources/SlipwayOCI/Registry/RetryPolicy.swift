import Foundation

/// When and how long to wait before trying a registry request again: on 429, 5xx and lost
/// connections, with exponential backoff and jitter, honouring `Retry-After`.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(10)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public static let standard = RetryPolicy()

    static func isRetryable(status: Int) -> Bool { status == 429 || status == 408 || (500...599).contains(status) && status != 501 }

    /// The wait before attempt `attempt + 1` (attempt counts from 1).
    func delay(afterAttempt attempt: Int, retryAfter: String?) -> Duration {
        if let retryAfter, let seconds = Int(retryAfter.trimmingCharacters(in: .whitespaces)), seconds >= 0 {
            return min(.seconds(seconds), maxDelay)
        }
        let exponential = baseDelay * (1 << min(attempt - 1, 16))
        let jitter = Double.random(in: 0.8...1.2)
        return min(exponential * jitter, maxDelay)
    }
}
