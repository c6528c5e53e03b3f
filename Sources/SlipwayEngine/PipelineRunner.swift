import Foundation
public import SlipwayKernel

/// Runs a ``PipelineDefinition``: steps whose dependencies are done run in parallel (bounded),
/// the first failure stops the run unless ignored, and a run or step timeout cancels what is
/// running. Structured concurrency throughout: cancelling the task that calls ``run(_:info:)``
/// cancels every step, which then reports `canceled`.
public struct PipelineRunner: Sendable {
    public let registry: PluginRegistry
    public let options: RunOptions

    public init(registry: PluginRegistry, options: RunOptions = RunOptions()) {
        self.registry = registry
        var options = options
        // Steps that name other plugins (a build's builder) find them in the run's registry.
        options.services.plugins = registry
        self.options = options
    }

    /// - Throws: ``PipelineValidationError`` before anything runs: graph problems, bad
    ///   configuration, secrets a step declares but the run was not given.
    /// - Returns: the report; a failed run is a report, not an error.
    /// - Parameter messages: what the recipe printed while it was evaluated, logged first.
    public func run(_ pipeline: PipelineDefinition, info: RunInfo, messages: [LogLine] = []) async throws -> RunReport {
        let runners = try prepare(pipeline)
        let (workDirectory, temporary) = try makeWorkDirectory(runID: info.id)
        defer { if temporary { try? FileManager.default.removeItem(atPath: workDirectory) } }
        let events = RunEventStream(runID: info.id, secrets: options.secrets.values, observers: options.observers)
        let log = RunLog(events: events)
        // Queued and started at once today; `slipway serve` will queue runs for its agents.
        events.emit(.runQueued) {
            $0.pipeline = pipeline.name
            $0.steps = pipeline.steps.count
            $0.graph = Dictionary(pipeline.steps.map { ($0.id.rawValue, $0.dependencies.map(\.rawValue)) }) { first, _ in first }
        }
        for line in messages { log.write(line) }

        let started = Date()
        events.emit(.runStarted) {
            $0.pipeline = pipeline.name
            $0.steps = pipeline.steps.count
        }
        let resources = RunResources()
        let scheduler = Scheduler(
            pipeline: pipeline, runners: runners, options: options, log: log, workDirectory: workDirectory, resources: resources)
        let outcome = await scheduler.run()
        // Services and the run network stop however the run ended; in a task of its own so that
        // a cancelled run (Ctrl-C) still waits for its containers to stop.
        await Task.detached { await resources.close() }.value

        var report = RunReport(
            runID: info.id, pipeline: pipeline.name, status: outcome.status, steps: outcome.results, failure: outcome.failure,
            started: started, finished: Date())
        await callHook(for: &report, pipeline: pipeline, info: info, log: log)
        events.emit(.runFinished) { [report] in
            $0.status = report.status
            $0.durationSeconds = report.finished.timeIntervalSince(report.started)
            $0.error = report.failure
        }
        return report
    }

    /// Validates and builds every step's runner before anything runs.
    private func prepare(_ pipeline: PipelineDefinition) throws -> [StepID: any StepRunner] {
        var problems = PipelineValidator(registry: registry).problems(in: pipeline)
        for step in pipeline.steps {
            for name in step.options.secrets where options.secrets[name] == nil {
                problems.append(
                    .init(location: step.location, step: step.id, message: "secret '\(name)' was not given to the run (--secret \(name)=ENV_VAR)"))
            }
        }
        guard problems.isEmpty else { throw PipelineValidationError(problems: problems) }
        var runners: [StepID: any StepRunner] = [:]
        for step in pipeline.steps { runners[step.id] = try registry.stepRunner(for: step) }
        return runners
    }

    private func makeWorkDirectory(runID: String) throws -> (String, Bool) {
        if let given = options.workDirectory {
            try FileManager.default.createDirectory(atPath: given, withIntermediateDirectories: true)
            return (given, false)
        }
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("slipway-run-\(runID)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return (path, true)
    }

    /// `on_success(run)` or `on_failure(run, err)`; a failing hook is logged, and does not change
    /// the run's status.
    private func callHook(for report: inout RunReport, pipeline: PipelineDefinition, info: RunInfo, log: RunLog) async {
        guard let invoker = options.hooks else { return }
        let succeeded = report.status == .succeeded
        guard let hook = succeeded ? pipeline.onSuccess : pipeline.onFailure else { return }
        var runValue = info.configValue.objectFields ?? [:]
        runValue["status"] = .string(report.status.rawValue)
        var arguments: [ConfigValue] = [.object(runValue)]
        if !succeeded {
            let failedStep = report.steps.first { $0.status == .failed || $0.status == .timedOut }
            var error: [String: ConfigValue] = ["message": .string(report.failure ?? report.status.rawValue)]
            if let failedStep { error["step"] = .string(failedStep.id.rawValue) }
            arguments.append(.object(error))
        }
        let result: HookResult
        do {
            result = try await invoker.invoke(hook, arguments: arguments)
        } catch {
            log.write(step: nil, .error, "\(hook.name) hook failed: \(error)")
            return
        }
        for line in result.messages { log.write(line) }
        for notification in result.notifications {
            guard let notifier = options.services.notifier else {
                log.write(step: nil, .error, "\(notification.location): notify \(notification.url): this host sends no notifications")
                continue
            }
            let outcome = await notifier.deliver(notification)
            let attempts = "\(outcome.attempts) attempt\(outcome.attempts == 1 ? "" : "s")"
            if let error = outcome.error {
                log.write(step: nil, .error, "notify \(notification.url): not delivered after \(attempts): \(error)")
            } else {
                log.write(step: nil, .info, "notify \(notification.url): delivered (HTTP \(outcome.status ?? 0)) after \(attempts)")
            }
        }
    }
}
