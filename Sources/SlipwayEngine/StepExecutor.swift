import Foundation
import SlipwayKernel

/// Carries out one step: start delay, attempts with timeout, retries with delay, repeats.
struct StepExecutor: Sendable {
    let step: StepDefinition
    let runner: any StepRunner
    let log: RunLog
    let clock: any Clock<Duration>
    let makeContext: @Sendable (_ attempt: Int) -> StepContext

    private enum Attempt {
        case succeeded(StepOutput)
        case failed(String, exitCode: Int32?, category: ErrorCategory)
        case timedOut
        case canceled
    }

    private var events: RunEventStream { log.events }

    func execute() async -> StepResult {
        var result = StepResult(id: step.id, kind: step.kind, status: .running)
        let options = step.options
        if let delay = options.startDelay?.duration, delay > .zero {
            log.write(step: step.id, .info, "waiting \(DurationText.format(delay)) before starting")
            do { try await clock.sleep(for: delay) } catch { return finish(result, .canceled, "canceled before it started") }
        }
        result.started = Date()
        events.emit(.stepStarted) {
            $0.step = step.id
            $0.stepKind = step.kind
        }
        var output = StepOutput.empty
        for execution in 0...options.repeat {
            if execution > 0 { log.write(step: step.id, .info, "repeat \(execution) of \(options.repeat)") }
            var retry = 0
            while true {
                result.attempts += 1
                events.emit(.stepAttempt) { [attempts = result.attempts] in
                    $0.step = step.id
                    $0.attempt = attempts
                }
                let outcome = await attempt(number: result.attempts)
                switch outcome {
                case .succeeded(let produced):
                    output = produced
                case .canceled:
                    return finish(result, .canceled, "canceled")
                case .failed, .timedOut:
                    guard retry < options.retries else {
                        if case .failed(let message, let exitCode, let category) = outcome {
                            result.exitCode = exitCode
                            result.errorCategory = category
                            return finish(result, .failed, message)
                        }
                        let limit = options.timeout.map { DurationText.format($0.duration) } ?? "?"
                        return finish(result, .timedOut, "timed out after \(limit)")
                    }
                    retry += 1
                    var why = "timed out"
                    var exitCode: Int32?
                    if case .failed(let message, let code, _) = outcome { (why, exitCode) = (message, code) }
                    let delay = options.retryDelay?.duration ?? .zero
                    events.emit(.stepRetrying) { [attempts = result.attempts] in
                        $0.step = step.id
                        $0.attempt = attempts
                        $0.error = why
                        $0.exitCode = exitCode
                        $0.delaySeconds = delay.seconds
                    }
                    if delay > .zero {
                        do { try await clock.sleep(for: delay) } catch { return finish(result, .canceled, "canceled") }
                    }
                    continue
                }
                break
            }
        }
        result.output = output
        return finish(result, .succeeded, nil)
    }

    private func finish(_ result: StepResult, _ status: RunStatus, _ failure: String?) -> StepResult {
        var result = result
        result.status = status
        result.failure = failure
        result.finished = Date()
        result.ignoredFailure = (status == .failed || status == .timedOut) && step.options.ignoreErrors
        events.emit(.stepFinished) { [result] in
            $0.step = step.id
            $0.status = status
            $0.attempt = result.attempts
            $0.durationSeconds = result.started.map { result.finished!.timeIntervalSince($0) }
            $0.error = failure
            $0.exitCode = result.exitCode
            $0.errorCategory = result.errorCategory
            $0.outputs = result.output?.fields
            $0.ignoredFailure = result.ignoredFailure ? true : nil
        }
        return result
    }

    /// One call of the plugin, raced against the step's timeout.
    private func attempt(number: Int) async -> Attempt {
        let context = makeContext(number)
        let runner = self.runner
        let stepID = step.id
        let timeout = step.options.timeout?.duration
        let clock = self.clock
        return await withTaskGroup(of: Attempt.self) { group in
            group.addTask {
                do {
                    return .succeeded(try await runner.run(in: context))
                } catch is CancellationError {
                    return .canceled
                } catch let failure as StepFailure {
                    return .failed(failure.step == stepID ? failure.messageWithExitCode : failure.description, exitCode: failure.exitCode, category: .failed)
                } catch {
                    return .failed(String(describing: error), exitCode: nil, category: ErrorCategory.of(error))
                }
            }
            if let timeout {
                group.addTask {
                    do {
                        try await clock.sleep(for: timeout)
                        return .timedOut
                    } catch {
                        return .canceled
                    }
                }
            }
            let first = await group.next() ?? .canceled
            group.cancelAll()
            // A cancelled plugin may still report an error on its way out; the timeout wins.
            return first
        }
    }
}

extension Duration {
    /// In seconds, for events.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension StepFailure {
    var messageWithExitCode: String { message + (exitCode.map { " (exit code \($0))" } ?? "") }
}
