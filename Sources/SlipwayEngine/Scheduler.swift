import Foundation
import SlipwayKernel

/// The DAG executor of one run. Local state only, mutated by the one task that awaits results;
/// steps run as child tasks of a task group.
struct Scheduler: Sendable {
    struct Outcome {
        var status: RunStatus
        var results: [StepResult]
        var failure: String?
    }

    private enum Event: Sendable {
        case finished(StepResult)
        case runTimedOut
        /// The run-timeout timer was cancelled because the run ended first.
        case timerStopped
    }

    let pipeline: PipelineDefinition
    let runners: [StepID: any StepRunner]
    let options: RunOptions
    let log: RunLog
    let workDirectory: String
    let resources: RunResources

    private var events: RunEventStream { log.events }

    func run() async -> Outcome {
        let steps = pipeline.steps
        var results: [StepID: StepResult] = [:]
        var waitingOn: [StepID: Set<StepID>] = [:]
        var dependents: [StepID: [StepID]] = [:]
        for step in steps {
            waitingOn[step.id] = Set(step.dependencies)
            for dependency in step.dependencies { dependents[dependency, default: []].append(step.id) }
        }
        var ready: [StepID] = []
        func enqueue(_ id: StepID) {
            ready.append(id)
            events.emit(.stepQueued) {
                $0.step = id
                $0.stepKind = pipeline.step(id)?.kind
            }
        }
        for step in steps where step.dependencies.isEmpty { enqueue(step.id) }
        var running = 0
        var stopReason: (status: RunStatus, message: String)?

        await withTaskGroup(of: Event.self) { group in
            if let timeout = pipeline.timeout?.duration {
                group.addTask {
                    do {
                        try await options.clock.sleep(for: timeout)
                        return .runTimedOut
                    } catch {
                        return .timerStopped
                    }
                }
            }
            func launchReady() {
                while stopReason == nil, !Task.isCancelled, running < options.maxConcurrency, !ready.isEmpty {
                    let id = ready.removeFirst()
                    let step = pipeline.step(id)!
                    let inputs = step.dependencies.reduce(into: [StepID: StepOutput]()) { inputs, dependency in
                        inputs[dependency] = results[dependency]?.output ?? .empty
                    }
                    let executor = StepExecutor(
                        step: step, runner: runners[id]!, log: log, clock: options.clock, makeContext: contextMaker(for: step, inputs: inputs))
                    running += 1
                    group.addTask { .finished(await executor.execute()) }
                }
            }
            launchReady()
            while running > 0, let event = await group.next() {
                switch event {
                case .runTimedOut:
                    let limit = DurationText.format(pipeline.timeout!.duration)
                    stopReason = stopReason ?? (.timedOut, "run timed out after \(limit)")
                    log.write(step: nil, .error, "run timeout (\(limit)) reached: cancelling running steps")
                    group.cancelAll()
                    continue
                case .timerStopped:
                    continue
                case .finished(let result):
                    running -= 1
                    let failed = result.status == .failed || result.status == .timedOut
                    results[result.id] = result
                    if result.status == .canceled || Task.isCancelled {
                        // Cancelled from outside (Ctrl-C, an embedding program): launch nothing more.
                        stopReason = stopReason ?? (.canceled, "interrupted before it finished")
                        group.cancelAll()
                    } else if failed && !result.ignoredFailure && stopReason == nil {
                        let message = "step '\(result.id)' \(result.status == .timedOut ? "timed out" : "failed"): \(result.failure ?? "")"
                        if options.failFast {
                            stopReason = (.failed, message)
                            if running > 0 { log.write(step: nil, .warning, "fail-fast: cancelling \(running) running step(s)") }
                            group.cancelAll()
                        } else {
                            skipDependents(of: result.id, dependents: dependents, results: &results, reason: message)
                        }
                    }
                    if stopReason == nil {
                        for next in dependents[result.id] ?? [] where results[next] == nil {
                            waitingOn[next]?.remove(result.id)
                            if waitingOn[next]?.isEmpty == true { enqueue(next) }
                        }
                        launchReady()
                    }
                }
            }
            // Nothing runs any more: stop the run-timeout timer.
            group.cancelAll()
        }

        let cancelled = Task.isCancelled
        var ordered: [StepResult] = []
        var neverStarted: [Int] = []
        for step in steps {
            if var result = results[step.id] {
                if cancelled, result.status == .running { result.status = .canceled }
                ordered.append(result)
            } else {
                var skipped = StepResult(id: step.id, kind: step.kind, status: .skipped)
                skipped.failure = stopReason.map { "not run: \($0.message)" } ?? (cancelled ? "not run: the run was canceled" : nil)
                neverStarted.append(ordered.count)
                ordered.append(skipped)
            }
        }
        if cancelled && stopReason == nil { stopReason = (.canceled, "interrupted before it finished") }
        if stopReason?.status == .canceled {
            for index in ordered.indices where ordered[index].status == .skipped && ordered[index].failure == nil {
                ordered[index].failure = "not run: the run was canceled"
            }
        }
        for index in neverStarted { emitSkipped(ordered[index]) }
        if stopReason == nil, let failed = ordered.first(where: { ($0.status == .failed || $0.status == .timedOut) && !$0.ignoredFailure }) {
            stopReason = (.failed, "step '\(failed.id)' \(failed.status == .timedOut ? "timed out" : "failed"): \(failed.failure ?? "")")
        }
        return Outcome(status: stopReason?.status ?? .succeeded, results: ordered, failure: stopReason?.message)
    }

    /// Without fail-fast, a failed step's dependents (transitively) are skipped and the rest of
    /// the graph goes on.
    private func skipDependents(
        of id: StepID, dependents: [StepID: [StepID]], results: inout [StepID: StepResult], reason: String
    ) {
        var pending = dependents[id] ?? []
        while let next = pending.popLast() {
            guard results[next] == nil, let step = pipeline.step(next) else { continue }
            var skipped = StepResult(id: next, kind: step.kind, status: .skipped)
            skipped.failure = "not run: \(reason)"
            results[next] = skipped
            emitSkipped(skipped)
            pending += dependents[next] ?? []
        }
    }

    /// A step that will not run ends with `step.finished` too, so every step of a run has one.
    private func emitSkipped(_ result: StepResult) {
        events.emit(.stepFinished) {
            $0.step = result.id
            $0.status = .skipped
            $0.error = result.failure
        }
    }

    private func contextMaker(for step: StepDefinition, inputs: [StepID: StepOutput]) -> @Sendable (Int) -> StepContext {
        let declared = step.options.secrets.reduce(into: [String: String]()) { $0[$1] = options.secrets[$1] }
        let logger = log.logger(for: step.id)
        let workDirectory = self.workDirectory
        let runID = events.runID
        let progress = ProgressEvents(stream: events)
        let environment = step.options.env
        let (clock, services, resources, detach) = (options.clock, options.services, self.resources, step.options.detach)
        return { attempt in
            StepContext(
                runID: runID, stepID: step.id, attempt: attempt, logger: logger, workDirectory: workDirectory, inputs: inputs,
                environment: environment, secrets: declared, progress: progress, clock: clock, services: services,
                detach: detach, resources: resources)
        }
    }
}
