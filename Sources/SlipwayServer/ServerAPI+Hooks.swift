import Foundation
import Hummingbird
import NIOCore
import SlipwayKernel
import SlipwayStore
import Triggers

extension ServerAPI {
    /// `POST /hooks/git/{task}`: a GitHub, Gitea or GitLab push or pull-request delivery,
    /// verified with the server's webhook secret before anything is read. A delivery id seen
    /// before starts nothing; a push of a sha already built starts nothing either.
    func gitHook(_ request: Request, task: String) async throws -> Response {
        guard let webhookSecret else {
            throw ServerError(.notFound, "Git webhooks are off: start the server with --webhook-secret")
        }
        let body = try await Self.body(of: request, limit: GitWebhook.maximumBody)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let provider: GitWebhook.Provider
        // Gitea also sends GitHub's headers; its own come first.
        if headers["x-gitea-event"] != nil {
            provider = .gitea
        } else if headers["x-github-event"] != nil {
            provider = .github
        } else if headers["x-gitlab-event"] != nil {
            provider = .gitlab
        } else {
            throw ServerError(.invalidInput, "not a GitHub, Gitea or GitLab delivery (no X-GitHub-Event, X-Gitea-Event or X-Gitlab-Event)")
        }
        let hook: GitWebhook?
        do {
            hook = try GitWebhook.read(provider, headers: headers, body: body, secret: webhookSecret)
        } catch {
            return JSONBody.error(error.description, status: error.status)
        }
        guard let hook else { return try JSONBody.response(API.HookAnswer(result: "ignored: this event starts no run", runs: []), status: .accepted) }
        guard try await store.task(named: task) != nil else { throw ServerError(.notFound, "no task named '\(task)'") }
        let first = try await store.recordDelivery(TriggerDelivery(
            trigger: "git-webhook", id: "\(provider.rawValue):\(hook.deliveryID)", task: task, received: Date(), summary: "\(hook.kind) \(hook.sha)"))
        guard first else {
            return try JSONBody.response(API.HookAnswer(result: "delivery \(hook.deliveryID) was received before; nothing started", runs: []))
        }
        let runs = try await supervisor.webhook(hook, task: task)
        return try JSONBody.response(API.HookAnswer(result: runs.isEmpty ? "no trigger of task \(task) takes this event" : "queued", runs: runs), status: .accepted)
    }

    /// `POST /hooks/registry`: a registry's push notification, read as hints about references;
    /// each is confirmed with a manifest HEAD before any run starts.
    func registryHook(_ request: Request) async throws -> Response {
        if let registryHookToken {
            let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            let given = bearer ?? request.uri.queryParameters["token"].map(String.init)
            guard let given, GitWebhook.constantTimeEqual(Data(given.utf8), Data(registryHookToken.utf8)) else {
                throw ServerError(.unauthorized, "the notification's token does not match --registry-hook-token")
            }
        }
        let body = try await Self.body(of: request, limit: RegistryNotification.maximumBody)
        let references: [String]
        do {
            references = try RegistryNotification.references(in: body)
        } catch {
            throw ServerError(.invalidInput, "\(error)")
        }
        await supervisor.hint(references)
        return try JSONBody.response(API.HookAnswer(result: "\(references.count) reference(s) to check", runs: []), status: .accepted)
    }

    /// The whole body, refused with 413 past `limit`.
    static func body(of request: Request, limit: Int) async throws -> Data {
        var request = request
        do {
            return Data(try await request.collectBody(upTo: limit).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw HTTPError(.contentTooLarge, message: "the body is larger than \(limit) bytes")
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw HTTPError(.contentTooLarge, message: "the body is larger than \(limit) bytes")
        }
    }
}

/// `Authorization: Bearer TOKEN` on every API route when the server has a token.
struct TokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token else { return try await next(request, context) }
        let given = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let given, GitWebhook.constantTimeEqual(Data(given.utf8), Data(token.utf8)) else {
            return JSONBody.error("this server needs its API token (Authorization: Bearer …; slipway --token or SLIPWAY_TOKEN)", status: 401)
        }
        return try await next(request, context)
    }
}
