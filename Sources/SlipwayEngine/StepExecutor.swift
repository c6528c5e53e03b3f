import Foundation
import SlipwayKernel

/// Carries out one step: start delay, attempts with timeout, retries with delay, repeats.
struct StepExecutor: Sendable {
    let step: StepDefinition
    let runner: any StepRunner
    let log: RunLog
    let makeContext: @Sendable (_ attempt: Int) -> StepContext

    private enum Attempt {
        case succeeded(StepOutput)
        case failed(String)
        case timedOut
        case canceled
    }

    func execute() async -> StepResult {
        var result = StepResult(id: step.id, kind: step.kind, status: .running)
        let options = step.options
        if let delay = options.startDelay?.duration, delay > .zero {
            log.write(step: step.id, .info, "waiting \(DurationText.format(delay)) before starting")
            do { try await Task.sleep(for: delay) } catch { return finish(result, .canceled, "canceled before it started") }
        }
        result.started = Date()
        log.write(step: step.id, .info, "started (\(step.kind))")
        var output = StepOutput.empty
        for execution in 0...options.repeat {
            if execution > 0 { log.write(step: step.id, .info, "repeat \(execution) of \(options.repeat)") }
            var retry = 0
            while true {
                result.attempts += 1
                let outcome = await attempt(number: result.attempts)
                switch outcome {
                case .succeeded(let produced):
                    output = produced
                case .canceled:
                    return finish(result, .canceled, "canceled")
                case .failed, .timedOut:
                    guard retry < options.retries else {
                        if case .failed(let message) = outcome { return finish(result, .failed, message) }
                        let limit = options.timeout.map { DurationText.format($0.duration) } ?? "?"
                        return finish(result, .timedOut, "timed out after \(limit)")
                    }
                    retry += 1
                    var why = "timed out"
                    if case .failed(let message) = outcome { why = message }
                    let delay = options.retryDelay?.duration ?? .zero
                    log.write(
                        step: step.id, .warning,
                        "attempt \(result.attempts) failed: \(why); retrying (\(retry) of \(options.retries))"
                            + (delay > .zero ? " in \(DurationText.format(delay))" : ""))
                    if delay > .zero {
                        do { try await Task.sleep(for: delay) } catch { return finish(result, .canceled, "canceled") }
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
        let elapsed = result.started.map { String(format: " in %.2fs", result.finished!.timeIntervalSince($0)) } ?? ""
        switch status {
        case .succeeded: log.write(step: step.id, .info, "succeeded\(elapsed)")
        case .canceled: log.write(step: step.id, .warning, "canceled")
        default: log.write(step: step.id, .error, "\(status.rawValue)\(elapsed): \(failure ?? "")")
        }
        return result
    }

    /// One call of the plugin, raced against the step's timeout.
    private func attempt(number: Int) async -> Attempt {
        let context = makeContext(number)
        let runner = self.runner
        let stepID = step.id
        let timeout = step.options.timeout?.duration
        return await withTaskGroup(of: Attempt.self) { group in
            group.addTask {
                do {
                    return .succeeded(try await runner.run(in: context))
                } catch is CancellationError {
                    return .canceled
                } catch let failure as StepFailure {
                    return .failed(failure.step == stepID ? failure.messageWithExitCode : failure.description)
                } catch {
                    return .failed(String(describing: error))
                }
            }
            if let timeout {
                group.addTask {
                    do {
                        try await Task.sleep(for: timeout)
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

extension StepFailure {
    var messageWithExitCode: String { message + (exitCode.map { " (exit code \($0))" } ?? "") }
}
