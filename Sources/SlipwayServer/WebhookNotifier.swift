import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
public import SlipwayKernel

/// Sends `notify { … }` POSTs: up to `attempts` tries, waiting `backoff`, then twice that,
/// between them. A 2xx is delivered; a 4xx other than 408 and 429 is final (the receiver
/// refused this body, sending it again will not help); anything else is tried again.
public struct WebhookNotifier: Notifier {
    public var attempts: Int
    public var backoff: Duration
    public var timeout: Duration

    public init(attempts: Int = 3, backoff: Duration = .seconds(1), timeout: Duration = .seconds(10)) {
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.timeout = timeout
    }

    public func deliver(_ notification: NotificationRequest) async -> NotificationOutcome {
        var delay = backoff
        var last = "not sent"
        for attempt in 1...attempts {
            if attempt > 1 {
                try? await Task.sleep(for: delay)
                delay *= 2
            }
            if Task.isCancelled { return NotificationOutcome(status: nil, attempts: attempt - 1, error: "canceled") }
            var request = HTTPClientRequest(url: notification.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: notification.contentType)
            request.headers.add(name: "User-Agent", value: "slipway")
            for (name, value) in notification.headers.sorted(by: { $0.key < $1.key }) { request.headers.replaceOrAdd(name: name, value: value) }
            request.body = .bytes(ByteBuffer(bytes: notification.body))
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
                _ = try? await response.body.collect(upTo: 1 << 20)
                let status = Int(response.status.code)
                if (200..<300).contains(status) { return NotificationOutcome(status: status, attempts: attempt) }
                last = "HTTP \(status)"
                if (400..<500).contains(status), status != 408, status != 429 { return NotificationOutcome(status: status, attempts: attempt, error: last) }
            } catch {
                last = "\(error)"
            }
        }
        return NotificationOutcome(status: nil, attempts: attempts, error: last)
    }
}
