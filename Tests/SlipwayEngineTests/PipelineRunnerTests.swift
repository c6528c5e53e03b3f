import Foundation
import SlipwayEngine
import SlipwayKernel
import SlipwayTesting
import Testing

/// Engine behaviour, asserted by call counts, statuses and order; never by elapsed time.
struct PipelineRunnerTests {
    /// A unique prefix per test, so the shared recorder never mixes tests running in parallel.
    let prefix = "t\(UUID().uuidString.prefix(8))-"

    func step(
        _ name: String, after: [String] = [], options: StepOptions = StepOptions(), _ configuration: [String: ConfigValue] = [:]
    ) -> StepDefinition {
        var configuration = configuration
        configuration["name"] = .string(prefix + name)
        return StepDefinition(
            id: StepID(name), kind: "test.step", configuration: .object(configuration), options: options,
            dependencies: after.map { StepID($0) }, location: SourceLocation(file: "engine.lua", line: 1))
    }

    func run(
        _ steps: [StepDefinition], timeout: Duration? = nil, options: RunOptions = RunOptions(), onSuccess: HookReference? = nil,
        onFailure: HookReference? = nil
    ) async throws -> RunReport {
        let pipeline = PipelineDefinition(
            name: "test", steps: steps, timeout: timeout.map(DurationValue.init), onSuccess: onSuccess, onFailure: onFailure,
            location: SourceLocation(file: "engine.lua", line: 1))
        return try await PipelineRunner(registry: TestRegistry.make(), options: options).run(pipeline, info: RunInfo(id: "run-1"))
    }

    func calls(_ name: String) -> Int { StepRecorder.shared.calls(prefix + name) }

    @Test func independentStepsOverlap() async throws {
        // Both steps wait at a rendezvous for two participants: it completes only if they run
        // at the same time (with concurrency 1 it would time out and fail).
        let barrier: [String: ConfigValue] = ["rendezvous": .string(prefix + "meet"), "participants": .int(2)]
        let report = try await run([step("a", barrier), step("b", barrier), step("c", after: ["a", "b"])])
        #expect(report.status == .succeeded)
        #expect(StepRecorder.shared.startOrder(prefix: prefix).last == prefix + "c")
    }

    @Test func dependenciesRunFirstAndSeeTheirInputs() async throws {
        let report = try await run([step("a"), step("b", after: ["a"]), step("c", after: ["b", "a"])])
        #expect(StepRecorder.shared.startOrder(prefix: prefix) == [prefix + "a", prefix + "b", prefix + "c"])
        #expect(report.step("c")?.output?.fields["inputs"] == .array([.string("a"), .string("b")]))
    }

    /// `env` reaches a step that takes one; a step that runs nothing to give it to, and
    /// `detach` on a step that cannot run detached, are refused before the run with file:line.
    @Test func envReachesTheStepAndOptionsAStepCannotUseAreRefused() async throws {
        var options = StepOptions()
        options.env = ["GREETING": "hello", "MODE": "test"]
        let report = try await run([step("a", options: options)])
        #expect(report.step("a")?.output?.fields["env"] == .object(["GREETING": .string("hello"), "MODE": .string("test")]))

        var detached = StepOptions()
        detached.detach = true
        let plain = StepDefinition(
            id: StepID("say"), kind: PlainStep.kind, configuration: .object([:]), options: options, location: SourceLocation(file: "engine.lua", line: 7))
        let service = StepDefinition(
            id: StepID("svc"), kind: "test.step", configuration: .object(["name": .string(prefix + "svc")]), options: detached,
            location: SourceLocation(file: "engine.lua", line: 9))
        let pipeline = PipelineDefinition(name: "t", steps: [plain, service], location: SourceLocation(file: "engine.lua", line: 1))
        let error = await #expect(throws: PipelineValidationError.self) {
            try await PipelineRunner(registry: TestRegistry.make(adding: [PlainStep.self])).run(pipeline, info: RunInfo(id: "run-2"))
        }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("engine.lua:7") && text.contains("env: a 'test.plain' step runs no command to give an environment to"), "\(text)")
        #expect(text.contains("engine.lua:9") && text.contains("detach: a 'test.step' step cannot run detached"), "\(text)")
        #expect(calls("svc") == 0)
    }

    /// The events of a parallel pipeline with a retry and a failure: numbered in order, one run,
    /// each step's lifecycle in order, a step's dependents queued only after it finished, a
    /// skipped step finished without starting, and the run finished last.
    @Test func eventsTellTheRunInOrder() async throws {
        let observer = CapturingObserver()
        var retried = StepOptions()
        retried.retries = 1
        let report = try await run([
            step("a"),
            step("flaky", after: ["a"], options: retried, ["fail_times": .int(1)]),
            step("broken", after: ["a"], ["fail_times": .int(-1), "exit_code": .int(3)]),
            step("last", after: ["flaky", "broken"]),
        ], options: RunOptions(failFast: false, observers: [observer]))
        #expect(report.status == .failed)
        let events = observer.events
        #expect(events.map(\.sequence) == Array(1...events.count))
        #expect(Set(events.map(\.run)) == ["run-1"])
        #expect(events.first?.kind == .runQueued && events.first?.pipeline == "test" && events.first?.steps == 4)
        #expect(events.last?.kind == .runFinished && events.last?.status == .failed)
        #expect(events.last?.error?.contains("step 'broken' failed") == true)
        func kinds(_ id: String) -> [RunEvent.Kind] { events.filter { $0.step == StepID(id) && $0.kind != .log }.map(\.kind) }
        #expect(kinds("a") == [.stepQueued, .stepStarted, .stepAttempt, .stepFinished])
        #expect(kinds("flaky") == [.stepQueued, .stepStarted, .stepAttempt, .stepRetrying, .stepAttempt, .stepFinished])
        #expect(kinds("broken") == [.stepQueued, .stepStarted, .stepAttempt, .stepFinished])
        #expect(kinds("last") == [.stepFinished])
        func index(_ id: String, _ kind: RunEvent.Kind) -> Int? { events.firstIndex { $0.step == StepID(id) && $0.kind == kind } }
        #expect(index("a", .stepFinished)! < index("flaky", .stepQueued)!)
        #expect(index("a", .stepFinished)! < index("broken", .stepQueued)!)
        let broken = events[index("broken", .stepFinished)!]
        #expect(broken.status == .failed && broken.exitCode == 3 && broken.error?.contains("scripted failure") == true)
        let retry = events[index("flaky", .stepRetrying)!]
        #expect(retry.attempt == 1 && retry.error?.contains("scripted failure on call 1") == true)
        let flaky = events[index("flaky", .stepFinished)!]
        #expect(flaky.status == .succeeded && flaky.attempt == 2 && flaky.outputs?["call"] == .int(2))
        #expect(events[index("last", .stepFinished)!].status == .skipped)
    }

    /// start_delay, retry_delay and timeouts wait on the run's clock: with a manual clock the
    /// test moves time, and two hours of delays and limits pass without any real waiting.
    @Test func delaysRetriesAndTimeoutsFollowTheRunsClock() async throws {
        let clock = ManualClock()
        var delayed = StepOptions()
        delayed.startDelay = DurationValue(.seconds(3600))
        var retried = StepOptions()
        retried.retries = 2
        retried.retryDelay = DurationValue(.seconds(600))
        var limited = StepOptions()
        limited.timeout = DurationValue(.seconds(1800))
        async let running = run([
            step("late", options: delayed),
            step("flaky", options: retried, ["fail_times": .int(2)]),
            step("stuck", options: limited, ["hang": .bool(true)]),
        ], options: RunOptions(failFast: false, clock: clock))
        await clock.waitForSleepers(3)  // late's start delay, stuck's timeout, flaky's first retry delay
        #expect(calls("late") == 0 && calls("flaky") == 1)
        clock.advance(by: .seconds(600))  // flaky tries again, fails, waits again
        await clock.waitForSleepers(3)
        #expect(calls("flaky") == 2)
        clock.advance(by: .seconds(600))  // flaky's third attempt succeeds
        await clock.waitForSleepers(2)
        clock.advance(by: .seconds(600))  // 30 minutes: stuck times out
        clock.advance(by: .seconds(1800))  // an hour: late starts
        let report = try await running
        #expect(report.step("flaky")?.status == .succeeded && report.step("flaky")?.attempts == 3)
        #expect(report.step("stuck")?.status == .timedOut)
        #expect(report.step("stuck")?.failure == "timed out after 30m")
        #expect(report.step("late")?.status == .succeeded && calls("late") == 1)
        #expect(report.status == .failed)
        #expect(Set(clock.requestedDeadlines) == [.seconds(3600), .seconds(1800), .seconds(600), .seconds(1200)])
    }

    @Test func concurrencyLimitIsRespected() async throws {
        let steps = (1...6).map { step("s\($0)", ["sleep_ms": .int(20)]) }
        let report = try await run(steps, options: RunOptions(maxConcurrency: 1))
        #expect(report.status == .succeeded)
        // With one slot, start order equals definition order.
        #expect(StepRecorder.shared.startOrder(prefix: prefix) == (1...6).map { prefix + "s\($0)" })
    }

    @Test func failFastCancelsRunningSiblingsAndSkipsTheRest() async throws {
        let report = try await run([
            step("hangs", ["hang": .bool(true)]),
            step("fails", ["fail_times": .int(-1), "exit_code": .int(3)]),
            step("later", after: ["fails"]),
        ])
        #expect(report.status == .failed)
        #expect(report.step("fails")?.status == .failed)
        #expect(report.step("fails")?.failure == "scripted failure on call 1 (exit code 3)")
        #expect(report.step("hangs")?.status == .canceled)
        #expect(report.step("later")?.status == .skipped)
        #expect(calls("later") == 0)
        #expect(report.failure?.contains("step 'fails' failed") == true)
    }

    @Test func keepGoingRunsIndependentBranches() async throws {
        let report = try await run(
            [step("fails", ["fail_times": .int(-1)]), step("dependent", after: ["fails"]), step("independent", ["sleep_ms": .int(30)])],
            options: RunOptions(failFast: false))
        #expect(report.status == .failed)
        #expect(report.step("independent")?.status == .succeeded)
        #expect(report.step("dependent")?.status == .skipped)
    }

    @Test func retriesUntilSuccess() async throws {
        var options = StepOptions()
        options.retries = 2
        options.retryDelay = DurationValue(.milliseconds(10))
        let report = try await run([step("flaky", options: options, ["fail_times": .int(2)])])
        #expect(report.status == .succeeded)
        #expect(report.step("flaky")?.attempts == 3)
        #expect(calls("flaky") == 3)
    }

    @Test func retriesAreBounded() async throws {
        var options = StepOptions()
        options.retries = 1
        let report = try await run([step("broken", options: options, ["fail_times": .int(-1)])])
        #expect(report.status == .failed)
        #expect(calls("broken") == 2)
    }

    @Test func stepTimeoutCancelsTheAttempt() async throws {
        var options = StepOptions()
        options.timeout = DurationValue(.milliseconds(50))
        let report = try await run([step("slow", options: options, ["hang": .bool(true)])])
        #expect(report.status == .failed)
        #expect(report.step("slow")?.status == .timedOut)
        #expect(report.step("slow")?.failure == "timed out after 50ms")
    }

    @Test func timeoutsCanBeRetried() async throws {
        var options = StepOptions()
        options.timeout = DurationValue(.milliseconds(30))
        options.retries = 1
        let report = try await run([step("slow", options: options, ["hang": .bool(true)])])
        #expect(report.step("slow")?.status == .timedOut)
        #expect(calls("slow") == 2)
    }

    @Test func ignoredFailuresLetDependentsRun() async throws {
        var options = StepOptions()
        options.ignoreErrors = true
        let report = try await run([step("optional", options: options, ["fail_times": .int(-1)]), step("next", after: ["optional"])])
        #expect(report.status == .succeeded)
        #expect(report.step("optional")?.status == .failed)
        #expect(report.step("optional")?.ignoredFailure == true)
        #expect(report.step("next")?.status == .succeeded)
    }

    @Test func startDelayWaitsBeforeTheFirstAttempt() async throws {
        var options = StepOptions()
        options.startDelay = DurationValue(.milliseconds(80))
        let clock = ContinuousClock()
        let before = clock.now
        let report = try await run([step("delayed", options: options)])
        // A lower bound only: waiting at least the delay is the behaviour; being slow is not a failure.
        #expect(clock.now - before >= .milliseconds(80))
        #expect(report.step("delayed")?.status == .succeeded)
    }

    @Test func repeatRunsAgainAfterSuccess() async throws {
        var options = StepOptions()
        options.repeat = 2
        let report = try await run([step("again", options: options)])
        #expect(calls("again") == 3)
        #expect(report.step("again")?.attempts == 3)
        #expect(report.step("again")?.output?.fields["call"] == .int(3))
    }

    @Test func runTimeoutStopsEverything() async throws {
        let report = try await run([step("forever", ["hang": .bool(true)]), step("after", after: ["forever"])], timeout: .milliseconds(50))
        #expect(report.status == .timedOut)
        #expect(report.step("forever")?.status == .canceled)
        #expect(report.step("after")?.status == .skipped)
    }

    @Test func cancellingTheRunCancelsSteps() async throws {
        let task = Task { try await run([step("forever", ["hang": .bool(true)]), step("after", after: ["forever"])]) }
        while StepRecorder.shared.calls(prefix + "forever") == 0 { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        let report = try await task.value
        #expect(report.status == .canceled)
        #expect(report.step("forever")?.status == .canceled)
        #expect(report.step("after")?.status == .skipped)
    }

    /// Detached steps leave their services running for the steps after them; the engine stops
    /// them when the run ends, newest first and before the shared network they joined, whether
    /// the run succeeded or failed.
    @Test(arguments: [false, true]) func detachedServicesAreReleasedWhenTheRunEnds(failing: Bool) async throws {
        var detached = StepOptions()
        detached.detach = true
        func service(_ name: String, after: [String] = [], mode: String = "serve") -> StepDefinition {
            StepDefinition(
                id: StepID(name), kind: ServiceStep.kind, configuration: .object(["name": .string(prefix + name), "mode": .string(mode)]),
                options: mode == "serve" ? detached : StepOptions(), dependencies: after.map { StepID($0) },
                location: SourceLocation(file: "engine.lua", line: 3))
        }
        let pipeline = PipelineDefinition(
            name: "services",
            steps: [service("db"), service("web", after: ["db"]), service("probe", after: ["web"], mode: failing ? "fail" : "probe")],
            location: SourceLocation(file: "engine.lua", line: 1))
        let report = try await PipelineRunner(registry: TestRegistry.make(adding: [ServiceStep.self]))
            .run(pipeline, info: RunInfo(id: "run-services"))
        #expect(report.status == (failing ? .failed : .succeeded))
        #expect(report.step("web")?.status == .succeeded)
        if !failing {
            // While the steps ran, nothing had been released yet.
            #expect(report.step("probe")?.output?.fields["released"] == .array([]))
        }
        let released = await ServiceStep.Releases.shared.names(prefix: prefix)
        #expect(released == [prefix + "web", prefix + "db", prefix + "network"])
    }

    @Test func secretsNeverAppearInLogs() async throws {
        let sink = CapturingObserver()
        var options = StepOptions()
        options.secrets = ["token"]
        let secret = "s3cr3t-\(UUID().uuidString)"
        let report = try await run(
            [step("leaky", options: options, ["log_secret": .string("token"), "log": .string("inline \(secret) too")])],
            options: RunOptions(secrets: ["token": secret], observers: [sink]))
        #expect(report.status == .succeeded)
        #expect(!sink.text.contains(secret))
        #expect(sink.text.contains("secret is ***"))
        #expect(sink.text.contains("inline *** too"))
    }

    @Test func undeclaredSecretsAreNotGiven() async throws {
        let report = try await run(
            [step("nosy", ["log_secret": .string("token")])], options: RunOptions(secrets: ["token": "value"]))
        #expect(report.step("nosy")?.status == .failed)
        #expect(report.step("nosy")?.failure?.contains("secret 'token' is not available") == true)
    }

    @Test func missingSecretsAndInvalidGraphsFailBeforeAnythingRuns() async throws {
        var options = StepOptions()
        options.secrets = ["absent"]
        await #expect {
            try await run([step("a", options: options), step("b", after: ["ghost"])])
        } throws: { error in
            (error as? PipelineValidationError)?.problems.count == 2
        }
        #expect(calls("a") == 0)
    }

    @Test func logLinesCarryStepAndTimestamp() async throws {
        let sink = CapturingObserver()
        _ = try await run([step("talks", ["log": .string("hello")])], options: RunOptions(observers: [sink]))
        let line = try #require(sink.lines.first { $0.text == "hello" })
        #expect(line.step == "talks")
        #expect(line.formatted.contains("[talks] hello"))
        #expect(abs(line.time.timeIntervalSinceNow) < 3600)
    }
}

/// A step that takes no environment and cannot run detached.
struct PlainStep: PluginKind, StepRunner {
    struct Configuration: Decodable, Sendable {}
    static let kind = "test.plain"
    init(configuration: Configuration) {}
    func run(in context: StepContext) async throws -> StepOutput { .empty }
}

/// Pretends to start a service on a shared network: with `detach`, it registers its stop with the
/// run's resources and returns; `probe` reports what was released so far; `fail` fails.
struct ServiceStep: PluginKind, DetachableStep {
    struct Configuration: Decodable, Sendable {
        var name: String
        var mode: String
    }

    actor Releases {
        static let shared = Releases()
        private var names: [String] = []
        func add(_ name: String) { names.append(name) }
        func names(prefix: String) -> [String] { names.filter { $0.hasPrefix(prefix) } }
    }

    static let kind = "test.service"
    let configuration: Configuration
    init(configuration: Configuration) { self.configuration = configuration }

    func run(in context: StepContext) async throws -> StepOutput {
        let name = configuration.name
        let prefix = String(name.prefix { $0 != "-" }) + "-"
        switch configuration.mode {
        case "probe":
            let released = await Releases.shared.names(prefix: prefix)
            return StepOutput(["released": .array(released.map { .string($0) })])
        case "fail":
            throw StepFailure(step: context.stepID, message: "the test failed")
        default:
            #expect(context.detach)
            _ = try await context.resources.shared(
                "network", make: { prefix + "network" }, release: { await Releases.shared.add($0) })
            try await context.resources.onRelease(name) { await Releases.shared.add(name) }
            return .empty
        }
    }
}
