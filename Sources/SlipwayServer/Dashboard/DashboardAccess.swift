import Crypto
import Foundation
import Hummingbird

/// Who may use the dashboard. On loopback (no API token) anyone who reaches it; otherwise a
/// session cookie set by the login form, which is a keyed hash of the API token (the token
/// itself never goes in a cookie or a page). Every state-changing form carries the server's
/// CSRF token, so another site cannot make a browser cancel or start runs.
struct DashboardAccess: Sendable {
    let apiToken: String?
    /// Random per server start; in every form, checked on every POST.
    let csrf: String
    /// The server's random key (bytes: `SymmetricKey` is not `Sendable`).
    private let secret: Data
    private var key: SymmetricKey { SymmetricKey(data: secret) }

    static let cookie = "slipway_session"

    init(apiToken: String?) {
        self.apiToken = apiToken
        secret = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        csrf = Data(HMAC<SHA256>.authenticationCode(for: Data("csrf".utf8), using: SymmetricKey(data: secret))).map { String(format: "%02x", $0) }.joined()
    }

    var needsLogin: Bool { apiToken != nil }

    /// The session cookie's value for the API token.
    var session: String? {
        apiToken.map { Data(HMAC<SHA256>.authenticationCode(for: Data("session:\($0)".utf8), using: key)).map { String(format: "%02x", $0) }.joined() }
    }

    func isSignedIn(_ request: Request) -> Bool {
        guard let session else { return true }
        guard let cookies = request.headers[.cookie] else { return false }
        for pair in cookies.split(separator: ";") {
            let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2, parts[0] == Self.cookie, Self.equal(parts[1], session) { return true }
        }
        return false
    }

    func accepts(token: String) -> Bool {
        guard let apiToken else { return true }
        return Self.equal(token, apiToken)
    }

    func acceptsCSRF(_ token: String?) -> Bool {
        guard let token else { return false }
        return Self.equal(token, csrf)
    }

    static func equal(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
