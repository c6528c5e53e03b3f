import Foundation
public import Logging
public import SlipwayEngine
public import SlipwayKernel
import SlipwayLua
public import SlipwayStore

/// The server's agent: takes queued run requests from the store, oldest first, and runs at most
/// `concurrency` at once, each from its task's recipe evaluated anew in a fresh sandbox.
///
/// A request is in the store before anyone is told it was accepted (``submit(_:)``), and a
/// run's events reach the store as they happen, so a server that dies loses nothing: at the
/// next start ``recover()`` marks the runs it was running as interrupted, retries each once,
/// and the runs still queued simply run.
public actor RunDispatcher {
    public struct Configuration: Sendable {
        /// Runs at once.
        public var concurrency: Int
        /// Steps at once within a run.
        public var stepConcurrency: Int
        /// What every run's steps get (content store, registry client...).
        public var services: HostServices
        /// Secrets every run is given (`serve --secret`); steps see those they declare.
        public var secrets: [String: String]
        /// Run variables every run sees (`registry`, `os`...), computed when the run starts.
        public var facts: @Sendable () async -> [String: String]

        public init(
            concurrency: Int = 2, stepConcurrency: Int = 4, services: HostServices = HostServices(), secrets: [String: String] = [:],
            facts: @escaping @Sendable () async -> [String: String] = { [:] }
        ) {
            self.concurrency = max(1, concurrency)
            self.stepConcurrency = max(1, stepConcurrency)
            self.services = services
            self.secrets = secrets
            self.facts = facts
        }
    }

    /// Called after each run that ran (trigger cascades read what it pushed).
    public typealias FinishedHandler = @Sendable (RunRequest, RunReport) async -> Void

    private let store: any SlipwayStore
    private let evaluator: TaskEvaluator
    private let hub: RunEventHub
    private let configuration: Configuration
    private let logger: Logger
    private var finishedHandlers: [FinishedHandler] = []
    private var running: [String: Task<Void, Never>] = [:]
    private var stopping = false
    private let wake: AsyncStream<Void>.Continuation
    private let signals: AsyncStream<Void>

    public init(store: any SlipwayStore, evaluator: TaskEvaluator, hub: RunEventHub, configuration: Configuration, logger: Logger) {
        self.store = store
        self.evaluator = evaluator
        self.hub = hub
        self.configuration = configuration
        self.logger = logger
        (signals, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    public func onFinished(_ handler: @escaping FinishedHandler) {
        finishedHandlers.append(handler)
    }

    /// Stores the request (so it survives a crash) and wakes the agent.
    public func submit(_ request: RunRequest) async throws -> QueueOutcome {
        try await submit([request])[0]
    }

    /// Stores requests in one transaction (a base with a thousand dependents is one write).
    public func submit(_ requests: [RunRequest]) async throws -> [QueueOutcome] {
        guard !stopping else { throw ServerError(.transient, "the server is shutting down; no new runs are accepted") }
        guard !requests.isEmpty else { return [] }
        let outcomes = try await store.queue(requests)
        var queued = 0
        for (request, outcome) in zip(requests, outcomes) {
            guard case .queued = outcome else { continue }
            queued += 1
            if requests.count <= 10 { logger.info("queued run \(request.id) of task \(request.task) (\(request.trigger))") }
        }
        if requests.count > 10 { logger.info("queued \(queued) runs (\(requests[0].trigger)); \(requests.count - queued) were run already") }
        if queued > 0 { wake.yield() }
        return outcomes
    }

    /// What the previous server left: runs it was running are marked interrupted and retried once
    /// (a retry that is itself interrupted is not retried again); queued runs run as usual.
    /// - Returns: the interrupted runs and the retries queued for them.
    @discardableResult
    public func recover() async throws -> [(interrupted: String, retry: String?)] {
        var recovered: [(String, String?)] = []
        for request in try await store.unfinishedRequests() {
            try await store.close(run: request.id, status: .interrupted, message: "the server stopped during the run", at: Date())
            var retry: String?
            if request.attempt < 2 {
                var again = request
                again.id = RunID.make()
                again.attempt = request.attempt + 1
                again.queued = Date()
                again.facts["retry_of"] = request.id
                if case .queued(let id) = try await store.queue(again) { retry = id }
            }
            logger.warning("run \(request.id) of task \(request.task) was interrupted by a server stop\(retry.map { "; retrying it as \($0)" } ?? "")")
            recovered.append((request.id, retry))
        }
        wake.yield()
        return recovered
    }

    /// Cancels a run: a running one stops its steps (and is recorded as canceled by its own
    /// events); a queued one is closed before it starts.
    /// - Returns: false when the run is neither queued nor running.
    public func cancel(_ id: String) async throws -> Bool {
        if let task = running[id] {
            task.cancel()
            return true
        }
        guard let run = try await store.run(id), run.status == .queued else { return false }
        try await store.close(run: id, status: .canceled, message: "canceled before it started", at: Date())
        hub.close(id)
        return true
    }

    /// Runs queued requests until ``shutdown()``.
    public func run() async {
        wake.yield()
        for await _ in signals {
            if stopping { return }
            await fill()
        }
    }

    /// Stops taking runs, cancels the running ones and waits until each has recorded its end.
    public func shutdown() async {
        stopping = true
        wake.finish()
        let tasks = Array(running.values)
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    /// Ids of the runs in progress.
    public var runningIDs: [String] { running.keys.sorted() }

    private func fill() async {
        guard running.count < configuration.concurrency else { return }
        let pending: [RunRequest]
        do {
            pending = try await store.pendingRequests()
        } catch {
            logger.error("cannot read the run queue: \(error)")
            return
        }
        // No await from here on: the checks and the starts happen in one turn of the actor.
        for request in pending where running[request.id] == nil && running.count < configuration.concurrency && !stopping {
            running[request.id] = Task { [weak self] in
                await self?.execute(request)
                await self?.finished(request.id)
            }
        }
    }

    private func finished(_ id: String) {
        running[id] = nil
        wake.yield()
    }

    private func execute(_ request: RunRequest) async {
        let report: RunReport
        do {
            // Canceled while it was being taken from the queue: it stays canceled.
            guard try await store.run(request.id)?.status == .queued else { return }
            guard let record = try await store.task(named: request.task) else {
                throw ServerError(.notFound, "task '\(request.task)' no longer exists")
            }
            var facts = await configuration.facts()
            facts.merge(request.facts) { _, event in event }
            facts["task"] = request.task
            var info = RunInfo(id: request.id, trigger: request.trigger, facts: facts, values: TaskEvaluator.merge(record.values, request.values))
            let task = try evaluator.evaluate(record, run: info)
            var (pipeline, messages, secrets) = try await task.prepare(run: info, secrets: configuration.secrets)
            if request.trigger == "base_image", let strategy = request.facts["strategy"], strategy != "rebuild" {
                // A patch strategy: the task's pipeline, or a rebase of its last image.
                let decision = PatchDecision.decide(facts: request.facts, image: try await store.latestImage(ofTask: request.task))
                guard decision.action != .refuse else {
                    throw ServerError(.failed, "base_image strategy rebase: the last image cannot be rebased: \(decision.reason)")
                }
                messages.append(LogLine(step: nil, level: .info, text: "patch decision: \(decision.action.rawValue), as \(decision.reason)"))
                info.facts["patch"] = decision.action.rawValue
                info.facts["patch_reason"] = decision.reason
                pipeline = decision.pipeline(replacing: pipeline, task: request.task)
            }
            let recorder = StoreRecorder(store: store)
            let runner = PipelineRunner(
                registry: evaluator.registry,
                options: RunOptions(
                    maxConcurrency: configuration.stepConcurrency, secrets: secrets, hooks: task.session, observers: [recorder, hub],
                    services: configuration.services))
            // The runner stops the run's steps when this task is canceled (cancel, shutdown).
            report = try await runner.run(pipeline, info: info, messages: messages)
            do {
                try await recorder.finish()
            } catch {
                logger.error("run \(request.id) was not fully recorded: \(error)")
            }
            await task.session?.release(run: request.id)
        } catch {
            // The run never started: its recipe did not evaluate, or its task is gone.
            logger.error("run \(request.id) of task \(request.task) could not start: \(error)")
            try? await store.close(run: request.id, status: .failed, message: "\(error)", at: Date())
            hub.close(request.id)
            return
        }
        logger.info("run \(request.id) of task \(request.task) \(report.status.rawValue)")
        for handler in finishedHandlers { await handler(request, report) }
    }
}
