import Foundation
import Logging
import SlipwayKernel
import SlipwayOCI
@testable import SlipwayServer
import SlipwayStore
import SlipwayTesting
@testable import Triggers
import Testing
import UtilitySteps

/// The supervisor in process, on a real SQLite store: webhook events through trigger filters,
/// what it records of each decision, and the dependency cycle check.
struct TriggerSupervisorTests {
    let logger = Logger(label: "test")

    func parts() throws -> (SQLiteStore, TriggerSupervisor) {
        let store = try SQLiteStore(path: Scratch.location("supervisor").appendingPathComponent("slipway.sqlite").path)
        var registry = PluginRegistry()
        try registry.register([CommitTrigger.self, PullRequestTrigger.self, BaseImageTrigger.self, ScheduleTrigger.self, EchoStep.self])
        let evaluator = TaskEvaluator(registry: registry)
        let dispatcher = RunDispatcher(store: store, evaluator: evaluator, hub: RunEventHub(), configuration: .init(), logger: logger)
        let supervisor = TriggerSupervisor(
            store: store, evaluator: evaluator, dispatcher: dispatcher, registryClient: RegistryClient(), configuration: .init(), logger: logger)
        return (store, supervisor)
    }

    func save(_ text: String, as name: String, in store: SQLiteStore) async throws {
        try await store.save(TaskRecord(name: name, format: "lua", text: text, created: Date(), updated: Date()))
    }

    static let sha = String(repeating: "a", count: 40)
    static let other = String(repeating: "b", count: 40)

    @Test func aFilterVetoIsRecordedAndStartsNothing() async throws {
        let (store, supervisor) = try parts()
        try await save(
            """
            return task {
              name = "app",
              triggers = { commit { url = "git://127.0.0.1:1/app.git", branch = "main",
                                    filter = function(event) return event.commit ~= "\(Self.other)" end } },
              pipeline = function(run) return { echo { message = run.commit } } end,
            }
            """, as: "app", in: store)
        let accepted = try await supervisor.webhook(GitWebhook(provider: .github, kind: .push(branch: "main"), sha: Self.sha, deliveryID: "d1"), task: "app")
        #expect(accepted.count == 1)
        let vetoed = try await supervisor.webhook(GitWebhook(provider: .github, kind: .push(branch: "main"), sha: Self.other, deliveryID: "d2"), task: "app")
        #expect(vetoed.isEmpty)
        let elsewhere = try await supervisor.webhook(GitWebhook(provider: .github, kind: .push(branch: "dev"), sha: Self.sha, deliveryID: "d3"), task: "app")
        #expect(elsewhere.isEmpty, "a push to a branch no trigger watches starts nothing")
        // The same sha again (a redelivery under a new id, or polling): the run it already has.
        let again = try await supervisor.webhook(GitWebhook(provider: .github, kind: .push(branch: "main"), sha: Self.sha, deliveryID: "d4"), task: "app")
        #expect(again == accepted)
        let pending = try await store.pendingRequests()
        #expect(pending.map(\.facts["commit"]) == [Self.sha])
        let summaries = try await store.deliveries(task: "app", limit: 10).map(\.summary)
        #expect(summaries.contains { $0.contains("vetoed by the trigger's filter") && $0.contains(Self.other) })
        #expect(summaries.contains { $0.contains("already run as \(accepted[0])") })
    }

    @Test func pullRequestsNeedTheirTriggerAndMatchTheTargetBranch() async throws {
        let (store, supervisor) = try parts()
        try await save(
            """
            return task {
              name = "app",
              triggers = { pull_request { branch = "main" } },
              pipeline = function(run) return { echo { message = run.pull_request } } end,
            }
            """, as: "app", in: store)
        let wrongTarget = try await supervisor.webhook(
            GitWebhook(provider: .gitea, kind: .pullRequest(number: 3, target: "release"), sha: Self.sha, deliveryID: "p1"), task: "app")
        #expect(wrongTarget.isEmpty)
        let run = try await supervisor.webhook(
            GitWebhook(provider: .gitea, kind: .pullRequest(number: 3, target: "main"), sha: Self.sha, deliveryID: "p2"), task: "app")
        #expect(run.count == 1)
        let request = try #require(try await store.request(ofRun: run[0]))
        #expect(request.trigger == "pull_request" && request.facts["pull_request"] == "3" && request.facts["ref"] == "pull/3/head")
        let push = try await supervisor.webhook(GitWebhook(provider: .gitea, kind: .push(branch: "main"), sha: Self.sha, deliveryID: "p3"), task: "app")
        #expect(push.isEmpty, "the task has no commit trigger")
    }

    @Test func cyclesAreFoundThroughRecordedImages() async throws {
        let (store, supervisor) = try parts()
        func image(_ task: String, makes reference: String, on base: String) -> ImageRecord {
            ImageRecord(
                task: task, run: "r-\(task)", reference: reference, digest: "sha256:\(task)", platform: "linux/amd64",
                runtimeBase: BaseImage(reference: base, digest: "sha256:base"), buildTimeBases: [], recorded: Date())
        }
        try await store.recordImage(image("a", makes: "r.test/a:1", on: "r.test/c:1"))
        try await store.recordImage(image("b", makes: "r.test/b:1", on: "r.test/a:1"))
        try await store.recordImage(image("c", makes: "r.test/c:1", on: "r.test/b:1"))
        try await store.recordImage(image("d", makes: "r.test/d:1", on: "r.test/a:1"))
        #expect(try await supervisor.cycle(through: "a") == ["a", "b", "c", "a"])
        #expect(try await supervisor.cycle(through: "d") == nil)
    }
}
