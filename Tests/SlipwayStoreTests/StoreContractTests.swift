import Foundation
import SlipwayEngine
import SlipwayKernel
import SlipwayStore
import SlipwayTesting
import Testing

/// What every ``SlipwayStore`` must do. A new implementation (PostgreSQL) adds its factory to
/// `implementations` and passes the same tests; callers never learn which store they have.
struct StoreContractTests {
    struct Implementation: Sendable, CustomTestStringConvertible {
        var name: String
        var make: @Sendable () throws -> any SlipwayStore
        var testDescription: String { name }
    }

    static let implementations = [
        Implementation(name: "SQLite") { try SQLiteStore(path: Scratch.location("store").appendingPathComponent("slipway.sqlite").path) }
    ]

    let prefix = "s\(UUID().uuidString.prefix(8))-"

    func step(_ name: String, after: [String] = [], _ configuration: [String: ConfigValue] = [:], options: StepOptions = StepOptions()) -> StepDefinition {
        var configuration = configuration
        configuration["name"] = .string(prefix + name)
        return StepDefinition(
            id: StepID(name), kind: "test.step", configuration: .object(configuration), options: options,
            dependencies: after.map { StepID($0) }, location: SourceLocation(file: "store.lua", line: 1))
    }

    /// Runs `steps` with the store recording, and returns what an observer saw beside it.
    func record(_ steps: [StepDefinition], in store: any SlipwayStore, id: String, secrets: [String: String] = [:]) async throws -> (RunReport, [RunEvent]) {
        let recorder = StoreRecorder(store: store)
        let seen = CapturingObserver()
        let pipeline = PipelineDefinition(name: "stored", steps: steps, location: SourceLocation(file: "store.lua", line: 1))
        let report = try await PipelineRunner(registry: TestRegistry.make(), options: RunOptions(secrets: secrets, observers: [recorder, seen]))
            .run(pipeline, info: RunInfo(id: id))
        try await recorder.finish()
        return (report, seen.events.filter { $0.kind != .progress })
    }

    @Test(arguments: implementations)
    func aRunIsRecordedFromItsEventsAndReadsBackExactly(_ implementation: Implementation) async throws {
        let store = try implementation.make()
        var retried = StepOptions()
        retried.retries = 1
        let (report, events) = try await record(
            [step("a", ["log": .string("hello"), "log_secret": .string("token")], options: secretOptions),
             step("b", after: ["a"], ["fail_times": .int(1)], options: retried),
             step("c", after: ["b"], ["fail_times": .int(-1)]), step("d", after: ["c"])],
            in: store, id: "run-1", secrets: ["token": "hunter22"])
        #expect(report.status == .failed)

        let run = try #require(try await store.run("run-1"))
        #expect(run.status == .failed && run.pipeline == "stored" && run.started != nil && run.finished != nil)
        #expect(run.error?.contains("step 'c' failed") == true)
        let steps = try await store.steps(ofRun: "run-1")
        #expect(steps.map(\.step.rawValue) == ["a", "b", "c", "d"])
        #expect(steps.map(\.status) == [.succeeded, .succeeded, .failed, .skipped])
        #expect(steps[1].attempts == 2 && steps[0].kind == "test.step")
        #expect(steps[0].outputs == report.step("a")?.output?.fields)
        // Every event, in order, exactly as it was emitted; and none holds the secret.
        let stored = try await store.events(ofRun: "run-1", after: 0)
        #expect(stored == events)
        #expect(try await store.events(ofRun: "run-1", after: 3) == Array(events.dropFirst(3)))
        let text = stored.compactMap(\.text).joined(separator: "\n")
        #expect(text.contains("hello") && text.contains("***") && !text.contains("hunter22"))

        // A redelivery changes nothing.
        try await store.append(events)
        #expect(try await store.events(ofRun: "run-1", after: 0).count == events.count)
        #expect(try await store.steps(ofRun: "run-1")[1].attempts == 2)
    }

    var secretOptions: StepOptions {
        var options = StepOptions()
        options.secrets = ["token"]
        return options
    }

    @Test(arguments: implementations)
    func runsAreListedNewestFirstAndFiltered(_ implementation: Implementation) async throws {
        let store = try implementation.make()
        _ = try await record([step("ok")], in: store, id: "r1")
        _ = try await record([step("bad", ["fail_times": .int(-1)])], in: store, id: "r2")
        _ = try await record([step("ok")], in: store, id: "r3")
        #expect(try await store.runs(RunQuery()).map(\.id) == ["r3", "r2", "r1"])
        #expect(try await store.runs(RunQuery(status: .failed)).map(\.id) == ["r2"])
        #expect(try await store.runs(RunQuery(limit: 1)).map(\.id) == ["r3"])
        #expect(try await store.run("nope") == nil)
    }

    @Test(arguments: implementations)
    func tasksAreSavedReplacedAndDeleted(_ implementation: Implementation) async throws {
        let store = try implementation.make()
        let created = Date(timeIntervalSince1970: 1_700_000_000)
        var task = TaskRecord(name: "app", format: "lua", text: "return task { }", values: .object(["tier": .string("dev")]), created: created, updated: created)
        try await store.save(task)
        task.text = "return task { name = 'app' }"
        task.enabled = false
        task.updated = created.addingTimeInterval(60)
        try await store.save(task)
        let yaml = TaskRecord(
            name: "base", format: "acr-task.yaml", text: "steps: []",
            settings: .object(["context": .string("git://h/r#main"), "commit_trigger": .bool(true)]), created: created, updated: created)
        try await store.save(yaml)
        #expect(try await store.task(named: "app") == task)
        #expect(try await store.task(named: "base") == yaml, "settings are kept with the task")
        #expect(try await store.tasks().map(\.name) == ["app", "base"])
        #expect(try await store.deleteTask(named: "app"))
        #expect(!(try await store.deleteTask(named: "app")))
        #expect(try await store.task(named: "app") == nil)
    }

    @Test(arguments: implementations)
    func cursorsAndDeliveries(_ implementation: Implementation) async throws {
        let store = try implementation.make()
        #expect(try await store.cursor(trigger: "commit", key: "git://h/r#main") == nil)
        try await store.setCursor("aaa", trigger: "commit", key: "git://h/r#main")
        try await store.setCursor("bbb", trigger: "commit", key: "git://h/r#main")
        #expect(try await store.cursor(trigger: "commit", key: "git://h/r#main") == "bbb")
        let delivery = TriggerDelivery(trigger: "github", id: "d-1", task: "app", received: Date(), summary: "push abc")
        #expect(try await store.recordDelivery(delivery))
        #expect(!(try await store.recordDelivery(delivery)), "a redelivered id must not start a second run")
        #expect(try await store.recordDelivery(TriggerDelivery(trigger: "gitlab", id: "d-1", task: "app", received: Date(), summary: "")))
    }

    /// A request is stored before its run exists; one with the key of a queued, running or
    /// succeeded run of the same task is a duplicate; one whose run failed may run again.
    @Test(arguments: implementations)
    func runRequestsAreQueuedOnceAndSurviveAsWritten(_ implementation: Implementation) async throws {
        let store = try implementation.make()
        let first = RunRequest(
            id: prefix + "r1", task: prefix + "t", trigger: "commit", facts: ["commit": "abc"], values: .object(["k": .string("v")]),
            dedupeKey: "commit:abc", queued: Date(timeIntervalSince1970: 1_000))
        #expect(try await store.queue(first) == .queued(first.id))
        var same = first
        same.id = prefix + "r2"
        #expect(try await store.queue(same) == .duplicate(of: first.id))
        var otherTask = same
        otherTask.task = prefix + "u"
        otherTask.id = prefix + "r3"
        #expect(try await store.queue(otherTask) == .queued(otherTask.id))
        #expect(try await store.request(ofRun: first.id) == first)
        let pending = try await store.pendingRequests().filter { $0.id.hasPrefix(prefix) }
        #expect(pending.map(\.id) == [first.id, otherTask.id])
        let run = try #require(try await store.run(first.id))
        #expect(run.status == .queued && run.task == first.task && run.trigger == "commit")

        // Its events start it; an unfinished run is what a stopped server leaves.
        try await store.append([RunEvent(kind: .runStarted, run: first.id, sequence: 1, time: Date())])
        #expect(try await store.unfinishedRequests().contains { $0.id == first.id })
        #expect(try await store.queue(same) == .duplicate(of: first.id))
        try await store.close(run: first.id, status: .interrupted, message: "the server stopped during the run", at: Date())
        #expect(try await store.run(first.id)?.status == .interrupted)
        #expect(!(try await store.unfinishedRequests().contains { $0.id == first.id }))
        // Interrupted is not done: the same key may run again, and close leaves finished runs alone.
        #expect(try await store.queue(same) == .queued(same.id))
        try await store.close(run: first.id, status: .canceled, message: "late", at: Date())
        #expect(try await store.run(first.id)?.status == .interrupted)
        try await store.close(run: otherTask.id, status: .canceled, message: "canceled before it started", at: Date())
        #expect(try await store.run(otherTask.id)?.error == "canceled before it started")
        #expect(try await store.runs(RunQuery(task: prefix + "t")).map(\.id) == [same.id, first.id])
    }

    @Test(arguments: implementations)
    func deliveriesAreListedPerTaskNewestFirst(_ implementation: Implementation) async throws {
        let store = try implementation.make()
        for (index, task) in ["a", "b", "a"].enumerated() {
            _ = try await store.recordDelivery(TriggerDelivery(
                trigger: "commit", id: "\(prefix)\(index)", task: prefix + task, received: Date(timeIntervalSince1970: Double(index)), summary: "s\(index)"))
        }
        #expect(try await store.deliveries(task: prefix + "a", limit: 10).map(\.summary) == ["s2", "s0"])
        #expect(try await store.deliveries(task: prefix + "a", limit: 1).map(\.summary) == ["s2"])
    }

    /// The dependency graph answers "who is built on this base?" from each task's latest image.
    @Test(arguments: implementations)
    func theDependencyGraphFollowsEachTasksLatestImage(_ implementation: Implementation) async throws {
        let store = try implementation.make()
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        let base = BaseImage(reference: "reg/base:1", digest: "sha256:b1")
        let golang = BaseImage(reference: "reg/golang:1", digest: "sha256:g1")
        try await store.recordImage(ImageRecord(
            task: "runtime", run: "r1", reference: "reg/runtime:1", digest: "sha256:r1", platform: "linux/amd64",
            runtimeBase: base, buildTimeBases: [], recorded: t0))
        try await store.recordImage(ImageRecord(
            task: "app", run: "r2", reference: "reg/app:1", digest: "sha256:a1", platform: "linux/amd64",
            runtimeBase: BaseImage(reference: "reg/runtime:1", digest: "sha256:r1"), buildTimeBases: [golang], recorded: t0))
        #expect(try await store.dependents(ofBase: "reg/base:1", scope: .runtime).map(\.task) == ["runtime"])
        #expect(try await store.dependents(ofBase: "reg/runtime:1", scope: .runtime).map(\.task) == ["app"])
        #expect(try await store.dependents(ofBase: "reg/golang:1", scope: .runtime).isEmpty)
        #expect(try await store.dependents(ofBase: "reg/golang:1", scope: .all).map(\.task) == ["app"])
        // The app's next image no longer uses golang: it stops depending on it.
        try await store.recordImage(ImageRecord(
            task: "app", run: "r3", reference: "reg/app:2", digest: "sha256:a2", platform: "linux/amd64",
            runtimeBase: BaseImage(reference: "reg/runtime:1", digest: "sha256:r1"), buildTimeBases: [], recorded: t0.addingTimeInterval(1)))
        #expect(try await store.dependents(ofBase: "reg/golang:1", scope: .all).isEmpty)
        let latest = try #require(try await store.latestImage(ofTask: "app"))
        #expect(latest.digest == "sha256:a2" && latest.runtimeBase?.digest == "sha256:r1" && latest.buildTimeBases.isEmpty)
    }

    @Test(arguments: implementations)
    func layerOriginsAreFoundByImageDigest(_ implementation: Implementation) async throws {
        let store = try implementation.make()
        let origins = [LayerOrigin(kind: .base, digest: "sha256:l0"), LayerOrigin(kind: .copy, digest: "sha256:l1")]
        try await store.recordImage(ImageRecord(
            task: "app", run: "r1", reference: "reg/app:1", digest: "sha256:a1", platform: "linux/amd64",
            runtimeBase: BaseImage(reference: "reg/base:1", digest: "sha256:b1"), buildTimeBases: [], layers: origins,
            tags: ["reg/app:1", "reg/app:latest"], recorded: Date()))
        #expect(try await store.image(digest: "sha256:a1")?.layers == origins)
        #expect(try await store.image(digest: "sha256:a1")?.tags == ["reg/app:1", "reg/app:latest"])
        #expect(try await StoreBuildRecords(store: store).record(ofImage: "sha256:a1")?.layers == origins)
        #expect(try await StoreBuildRecords(store: store).record(ofImage: "sha256:other") == nil)
    }
}
