import Foundation
import SlipwayKernel

/// `--progress plain`: events as `HH:MM:SS.mmm [step] text` lines on stderr, one write per line
/// so lines of parallel steps never interleave mid-line. Progress events are left to the modes
/// that can show them in place (json).
struct PlainEventRenderer: RunObserver {
    var minimumLevel: LogLine.Level = .info

    func observe(_ event: RunEvent) {
        guard let text = render(event) else { return }
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// The event's whole line (with its newline), or nil when it says nothing at this level.
    /// `slipway logs` prints the same lines for a server's runs.
    func render(_ event: RunEvent) -> String? {
        guard let (level, text) = line(for: event), level >= minimumLevel else { return nil }
        let time = event.time.formatted(.iso8601.time(includingFractionalSeconds: true))
        let tag = level == .info ? "" : "\(level.rawValue): "
        return "\(time) [\(event.step?.rawValue ?? "run")] \(tag)\(text)\n"
    }

    /// What a person reads for an event, or nil for events that say nothing new.
    func line(for event: RunEvent) -> (LogLine.Level, String)? {
        switch event.kind {
        case .runQueued, .stepQueued, .stepAttempt, .progress:
            return nil
        case .runStarted:
            return (.info, "run \(event.run) of '\(event.pipeline ?? "")' started: \(event.steps ?? 0) step(s)")
        case .stepStarted:
            return (.info, "started (\(event.stepKind ?? "step"))")
        case .stepRetrying:
            let delay = (event.delaySeconds ?? 0) > 0 ? " in \(DurationText.format(.milliseconds(Int64((event.delaySeconds ?? 0) * 1000))))" : ""
            return (.warning, "attempt \(event.attempt ?? 0) failed: \(event.error ?? "timed out"); retrying\(delay)")
        case .stepFinished:
            let elapsed = event.durationSeconds.map { String(format: " in %.2fs", $0) } ?? ""
            switch event.status {
            case .succeeded?: return (.info, "succeeded\(elapsed)")
            case .canceled?: return (.warning, "canceled")
            case .skipped?: return (.warning, "skipped: \(event.error ?? "")")
            default:
                let ignored = event.ignoredFailure == true ? " (failure ignored: ignore_errors)" : ""
                return (.error, "\(event.status?.rawValue ?? "failed")\(elapsed): \(event.error ?? "")\(ignored)")
            }
        case .runFinished:
            return (event.status == .succeeded ? .info : .error, "run \(event.status?.rawValue ?? "finished")" + (event.error.map { ": \($0)" } ?? ""))
        case .log:
            guard let level = event.level, let text = event.text else { return nil }
            return (level, text)
        }
    }
}
