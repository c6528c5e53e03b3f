import Crypto
import Foundation
import Testing
@testable import Triggers

/// Webhook deliveries as GitHub, Gitea and GitLab send them: verified, read, and refused with
/// the HTTP status serve will answer.
struct GitWebhookTests {
    let secret = "hook-secret"
    let sha = "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"

    func signature(_ body: Data, key: String? = nil) -> String {
        HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data((key ?? secret).utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    func push(ref: String = "refs/heads/main", after: String? = nil) -> Data {
        Data(#"{"ref":"\#(ref)","after":"\#(after ?? sha)","repository":{"clone_url":"https://git.example.com/app.git"}}"#.utf8)
    }

    @Test func githubGiteaAndGitlabPushesAreReadWhenSigned() throws {
        let body = push()
        let github = try GitWebhook.read(
            .github, headers: ["X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": "sha256=" + signature(body)],
            body: body, secret: secret)
        #expect(github == GitWebhook(provider: .github, kind: .push(branch: "main"), sha: sha, deliveryID: "d-1"))
        let gitea = try GitWebhook.read(
            .gitea, headers: ["x-gitea-event": "push", "x-gitea-delivery": "d-2", "x-gitea-signature": signature(body)], body: body, secret: secret)
        #expect(gitea?.kind == .push(branch: "main") && gitea?.deliveryID == "d-2")
        let gitlab = try GitWebhook.read(
            .gitlab, headers: ["X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "d-3", "X-Gitlab-Token": secret], body: body, secret: secret)
        #expect(gitlab?.sha == sha)
    }

    @Test func pullRequestsBuildTheirHead() throws {
        let body = Data(#"{"action":"synchronize","number":7,"pull_request":{"head":{"sha":"\#(sha)"},"base":{"ref":"main"}}}"#.utf8)
        let event = try GitWebhook.read(
            .github, headers: ["X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d", "X-Hub-Signature-256": "sha256=" + signature(body)],
            body: body, secret: secret)
        #expect(event?.kind == .pullRequest(number: 7, target: "main") && event?.sha == sha)
        let closed = Data(#"{"action":"closed","number":7,"pull_request":{"head":{"sha":"\#(sha)"}}}"#.utf8)
        #expect(try GitWebhook.read(
            .github, headers: ["X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d", "X-Hub-Signature-256": "sha256=" + signature(closed)],
            body: closed, secret: secret) == nil)
        let merge = Data(#"{"object_attributes":{"iid":4,"action":"open","target_branch":"dev","last_commit":{"id":"\#(sha)"}}}"#.utf8)
        let gitlab = try GitWebhook.read(
            .gitlab, headers: ["X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Event-UUID": "m", "X-Gitlab-Token": secret], body: merge, secret: secret)
        #expect(gitlab?.kind == .pullRequest(number: 4, target: "dev"))
    }

    @Test func tagPushesBranchDeletionsAndPingsStartNothing() throws {
        for body in [push(ref: "refs/tags/v1"), push(after: String(repeating: "0", count: 40))] {
            #expect(try GitWebhook.read(
                .gitea, headers: ["X-Gitea-Event": "push", "X-Gitea-Delivery": "d", "X-Gitea-Signature": signature(body)], body: body, secret: secret) == nil)
        }
        let ping = Data(#"{"zen":"hi"}"#.utf8)
        #expect(try GitWebhook.read(
            .github, headers: ["X-GitHub-Event": "ping", "X-GitHub-Delivery": "d", "X-Hub-Signature-256": "sha256=" + signature(ping)],
            body: ping, secret: secret) == nil)
    }

    /// Each refusal with the status serve answers: 401 before the body is even parsed.
    @Test func refusals() {
        let body = push()
        func status(_ provider: GitWebhook.Provider, _ headers: [String: String], _ body: Data) -> Int? {
            do {
                _ = try GitWebhook.read(provider, headers: headers, body: body, secret: secret)
                return nil
            } catch {
                return error.status
            }
        }
        #expect(status(.github, ["X-GitHub-Event": "push", "X-GitHub-Delivery": "d", "X-Hub-Signature-256": "sha256=" + signature(body, key: "wrong")], body) == 401)
        #expect(status(.github, ["X-GitHub-Event": "push", "X-GitHub-Delivery": "d"], body) == 401)
        #expect(status(.github, ["X-GitHub-Event": "push", "X-GitHub-Delivery": "d", "X-Hub-Signature-256": "sha256=zz"], body) == 401)
        #expect(status(.gitlab, ["X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "d", "X-Gitlab-Token": "hook-secreT"], body) == 401)
        let malformed = Data("{not json".utf8)
        #expect(status(.gitea, ["X-Gitea-Event": "push", "X-Gitea-Delivery": "d", "X-Gitea-Signature": signature(malformed)], malformed) == 400)
        let badSha = push(after: "$(rm -rf /)")
        #expect(status(.gitea, ["X-Gitea-Event": "push", "X-Gitea-Delivery": "d", "X-Gitea-Signature": signature(badSha)], badSha) == 400)
        #expect(status(.gitea, ["X-Gitea-Event": "push", "X-Gitea-Signature": signature(body)], body) == 400)
        let huge = Data(count: GitWebhook.maximumBody + 1)
        #expect(status(.gitea, ["X-Gitea-Event": "push", "X-Gitea-Delivery": "d", "X-Gitea-Signature": signature(huge)], huge) == 413)
    }

    @Test func comparisonIsExact() {
        #expect(GitWebhook.constantTimeEqual(Data("abc".utf8), Data("abc".utf8)))
        #expect(!GitWebhook.constantTimeEqual(Data("abc".utf8), Data("abd".utf8)))
        #expect(!GitWebhook.constantTimeEqual(Data("abc".utf8), Data("abcd".utf8)))
    }
}
