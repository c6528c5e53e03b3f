import Crypto
public import Foundation

/// A push or pull-request webhook from GitHub, Gitea or GitLab, verified and read. Verification
/// is HMAC-SHA256 of the raw body with the task's secret (GitHub `X-Hub-Signature-256`, Gitea
/// `X-Gitea-Signature`) or GitLab's shared token (`X-Gitlab-Token`), compared in constant time.
/// The delivery id comes along so that a redelivery starts no second run.
public struct GitWebhook: Sendable, Hashable {
    public enum Provider: String, Sendable, CaseIterable {
        case github, gitea, gitlab
    }

    public enum Kind: Sendable, Hashable {
        case push(branch: String)
        /// `target`: the branch the pull request would merge into.
        case pullRequest(number: Int, target: String?)
    }

    public var provider: Provider
    public var kind: Kind
    /// The commit to build: the pushed head, or the pull request's head.
    public var sha: String
    public var deliveryID: String

    /// The largest body read; a larger one is refused before it is parsed.
    public static let maximumBody = 1 << 20

    /// Why a delivery was refused, and the HTTP status that says so.
    public struct Refusal: Error, CustomStringConvertible, Sendable, Equatable {
        public var status: Int
        public var description: String
    }

    /// Verifies and reads a delivery.
    /// - Parameter headers: names in any case.
    /// - Returns: nil for an event that starts no run (a tag push, a closed pull request, a ping).
    /// - Throws: ``Refusal``: 401 for a missing or wrong signature, 400 for a body that is not
    ///   the event it claims, 413 for an oversized body.
    public static func read(_ provider: Provider, headers: [String: String], body: Data, secret: String) throws(Refusal) -> GitWebhook? {
        guard body.count <= maximumBody else { throw Refusal(status: 413, description: "the body is larger than \(maximumBody) bytes") }
        let header = { (name: String) in headers.first { $0.key.lowercased() == name.lowercased() }?.value }
        try verify(provider, header: header, body: body, secret: secret)
        let event: String?
        let delivery: String?
        switch provider {
        case .github: (event, delivery) = (header("X-GitHub-Event"), header("X-GitHub-Delivery"))
        case .gitea: (event, delivery) = (header("X-Gitea-Event"), header("X-Gitea-Delivery"))
        case .gitlab: (event, delivery) = (header("X-Gitlab-Event"), header("X-Gitlab-Event-UUID"))
        }
        guard let event, let delivery, !delivery.isEmpty else { throw Refusal(status: 400, description: "the event or delivery id header is missing") }
        guard let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw Refusal(status: 400, description: "the body is not a JSON object")
        }
        switch (provider, event) {
        case (_, "push"), (.gitlab, "Push Hook"):
            guard let ref = json["ref"] as? String, let sha = json["after"] as? String else {
                throw Refusal(status: 400, description: "a push event without ref and after")
            }
            // Tag pushes and branch deletions (an all-zero sha) start nothing.
            guard ref.hasPrefix("refs/heads/"), sha.contains(where: { $0 != "0" }) else { return nil }
            try checkSha(sha)
            return GitWebhook(provider: provider, kind: .push(branch: String(ref.dropFirst("refs/heads/".count))), sha: sha, deliveryID: delivery)
        case (.github, "pull_request"), (.gitea, "pull_request"):
            guard let action = json["action"] as? String, let number = json["number"] as? Int,
                let head = (json["pull_request"] as? [String: Any])?["head"] as? [String: Any], let sha = head["sha"] as? String
            else { throw Refusal(status: 400, description: "a pull_request event without action, number and head sha") }
            guard ["opened", "synchronize", "synchronized", "reopened"].contains(action) else { return nil }
            try checkSha(sha)
            let target = ((json["pull_request"] as? [String: Any])?["base"] as? [String: Any])?["ref"] as? String
            return GitWebhook(provider: provider, kind: .pullRequest(number: number, target: target), sha: sha, deliveryID: delivery)
        case (.gitlab, "Merge Request Hook"):
            guard let attributes = json["object_attributes"] as? [String: Any], let number = attributes["iid"] as? Int,
                let action = attributes["action"] as? String, let sha = (attributes["last_commit"] as? [String: Any])?["id"] as? String
            else { throw Refusal(status: 400, description: "a merge request event without iid, action and last commit") }
            guard ["open", "update", "reopen"].contains(action) else { return nil }
            try checkSha(sha)
            return GitWebhook(
                provider: provider, kind: .pullRequest(number: number, target: attributes["target_branch"] as? String), sha: sha, deliveryID: delivery)
        default:
            return nil
        }
    }

    private static func verify(_ provider: Provider, header: (String) -> String?, body: Data, secret: String) throws(Refusal) {
        let unauthorized = Refusal(status: 401, description: "the delivery's signature does not match the task's webhook secret")
        switch provider {
        case .gitlab:
            guard let token = header("X-Gitlab-Token"), constantTimeEqual(Data(token.utf8), Data(secret.utf8)) else { throw unauthorized }
        case .github, .gitea:
            let given = provider == .github ? header("X-Hub-Signature-256").flatMap { $0.hasPrefix("sha256=") ? String($0.dropFirst(7)) : nil }
                : header("X-Gitea-Signature")
            guard let given, let signature = hexBytes(given.lowercased()) else { throw unauthorized }
            let expected = Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))))
            guard constantTimeEqual(signature, expected) else { throw unauthorized }
        }
    }

    private static func checkSha(_ sha: String) throws(Refusal) {
        guard (40...64).contains(sha.count), sha.allSatisfy(\.isHexDigit) else { throw Refusal(status: 400, description: "'\(sha.prefix(80))' is not a commit sha") }
    }

    /// Compares without stopping at the first difference, so timing tells nothing.
    public static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    private static func hexBytes(_ text: String) -> Data? {
        guard text.count.isMultiple(of: 2) else { return nil }
        var data = Data()
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            data.append(byte)
            index = next
        }
        return data
    }
}
