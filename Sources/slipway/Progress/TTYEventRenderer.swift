import Foundation
import SlipwayKernel
import Synchronization

/// `--progress tty`: a live view on a terminal. Each running step has a few lines at the
/// bottom of the screen (its kind and time, its last output lines, a bar for each transfer in
/// flight), redrawn in place at most ten times a second; what is finished scrolls up above it
/// as permanent lines (a step's result, warnings, the run's own lines). A failed step leaves
/// its last output lines behind, so the reason stays on screen.
///
/// Only a bounded tail of each running step's output is kept (``tailLines``); a step that
/// prints a gigabyte costs the view no more than one that prints a line.
final class TTYEventRenderer: RunObserver, Sendable {
    /// Lines of output kept per running step: the last few are shown live, all of them when
    /// the step fails.
    static let tailLines = 10
    /// Output lines shown under a running step.
    static let liveLines = 3

    private struct Transfer {
        var completed: Int64
        var total: Int64?
    }

    private struct RunningStep {
        var kind: String
        var started: Date
        var tail: [String] = []
        var transfers: [(label: String, transfer: Transfer)] = []
    }

    private struct State {
        var order: [StepID] = []
        var running: [StepID: RunningStep] = [:]
        /// Lines of the live block now on screen, to move back over when redrawing.
        var drawn = 0
        var lastDraw = ContinuousClock.now - .seconds(1)
    }

    private let minimumLevel: LogLine.Level
    private let width: Int
    private let write: @Sendable (String) -> Void
    private let state = Mutex(State())

    /// - Parameters:
    ///   - width: the terminal's columns; live lines are cut to fit, since a wrapped line
    ///     would throw the redraw's line count off.
    ///   - write: where the text goes (stderr; a test collects it).
    init(minimumLevel: LogLine.Level = .info, width: Int, write: @escaping @Sendable (String) -> Void) {
        self.minimumLevel = minimumLevel
        self.width = max(20, width)
        self.write = write
    }

    /// A view on stderr, sized to the terminal.
    static func onStandardError(minimumLevel: LogLine.Level) -> TTYEventRenderer {
        TTYEventRenderer(minimumLevel: minimumLevel, width: TerminalSize.columns(of: STDERR_FILENO) ?? 80) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    func observe(_ event: RunEvent) {
        let output: String? = state.withLock { state in
            let permanent = apply(event, to: &state)
            let now = ContinuousClock.now
            let final = event.kind == .runFinished
            guard !permanent.isEmpty || final || now - state.lastDraw >= .milliseconds(100) else { return nil }
            state.lastDraw = now
            return redraw(&state, permanent: permanent, at: event.time, live: !final)
        }
        if let output { write(output) }
    }

    /// Updates the view's state and returns the lines the event leaves on screen for good.
    private func apply(_ event: RunEvent, to state: inout State) -> [String] {
        switch event.kind {
        case .runQueued, .stepQueued, .stepAttempt:
            return []
        case .runStarted:
            return ["run \(event.run) of '\(event.pipeline ?? "")': \(event.steps ?? 0) step(s)"]
        case .stepStarted:
            guard let step = event.step else { return [] }
            if state.running[step] == nil { state.order.append(step) }
            state.running[step] = RunningStep(kind: event.stepKind ?? "step", started: event.time)
            return []
        case .log:
            guard let text = event.text, let level = event.level else { return [] }
            guard let step = event.step else { return level >= minimumLevel ? [Self.tagged(level, text)] : [] }
            state.running[step]?.tail.append(text)
            if let count = state.running[step]?.tail.count, count > Self.tailLines {
                state.running[step]?.tail.removeFirst(count - Self.tailLines)
            }
            // Warnings and errors stay on screen; ordinary output is shown live only.
            return level >= .warning && level >= minimumLevel ? ["[\(step)] " + Self.tagged(level, text)] : []
        case .progress:
            guard let step = event.step, let label = event.label, var running = state.running[step] else { return [] }
            let transfer = Transfer(completed: event.completed ?? 0, total: event.total)
            let done = transfer.total.map { transfer.completed >= $0 } ?? false
            if let index = running.transfers.firstIndex(where: { $0.label == label }) {
                if done { running.transfers.remove(at: index) } else { running.transfers[index].transfer = transfer }
            } else if !done {
                running.transfers.append((label, transfer))
            }
            state.running[step] = running
            return []
        case .stepRetrying:
            let delay = (event.delaySeconds ?? 0) > 0 ? String(format: " in %.1fs", event.delaySeconds ?? 0) : ""
            return ["[\(event.step?.rawValue ?? "")] attempt \(event.attempt ?? 0) failed: \(event.error ?? "timed out"); retrying\(delay)"]
        case .stepFinished:
            guard let step = event.step else { return [] }
            let running = state.running.removeValue(forKey: step)
            state.order.removeAll { $0 == step }
            let elapsed = event.durationSeconds.map { String(format: " %.1fs", $0) } ?? ""
            let kind = event.stepKind ?? running?.kind ?? "step"
            switch event.status {
            case .succeeded?: return ["✔ [\(step)] \(kind)\(elapsed)"]
            case .canceled?: return ["- [\(step)] \(kind) canceled"]
            case .skipped?: return ["- [\(step)] \(kind) skipped: \(event.error ?? "")"]
            default:
                let ignored = event.ignoredFailure == true ? " (ignored: ignore_errors)" : ""
                return ["✘ [\(step)] \(kind) \(event.status?.rawValue ?? "failed")\(elapsed): \(event.error ?? "")\(ignored)"]
                    + (running?.tail ?? []).map { "    \($0)" }
            }
        case .runFinished:
            return ["run \(event.status?.rawValue ?? "finished")" + (event.durationSeconds.map { String(format: " in %.1fs", $0) } ?? "")]
        }
    }

    /// Moves back over the live block, prints the permanent lines, then the live block anew.
    private func redraw(_ state: inout State, permanent: [String], at time: Date, live: Bool) -> String {
        var text = state.drawn > 0 ? "\u{1B}[\(state.drawn)F\u{1B}[J" : ""
        for line in permanent { text += line + "\n" }
        let block = live ? liveBlock(state, at: time) : []
        for line in block { text += fit(line) + "\n" }
        state.drawn = block.count
        return text
    }

    private func liveBlock(_ state: State, at time: Date) -> [String] {
        var lines: [String] = []
        for step in state.order {
            guard let running = state.running[step] else { continue }
            lines.append(String(format: "=> [%@] %@ %.1fs", step.rawValue, running.kind, max(0, time.timeIntervalSince(running.started))))
            for line in running.tail.suffix(Self.liveLines) { lines.append("   \u{1B}[2m\(line)\u{1B}[0m") }
            for (label, transfer) in running.transfers { lines.append("   \(label) \(Self.bar(transfer.completed, of: transfer.total))") }
        }
        return lines
    }

    /// Cut to the terminal's width (counted in characters, escapes excluded from the count).
    private func fit(_ line: String) -> String {
        var visible = 0
        var result = ""
        var inEscape = false
        for character in line {
            if character == "\u{1B}" { inEscape = true }
            if !inEscape {
                if visible == width - 1 { return result + "\u{1B}[0m" }
                visible += 1
            }
            result.append(character)
            if inEscape && character.isLetter { inEscape = false }
        }
        return result
    }

    static func bar(_ completed: Int64, of total: Int64?) -> String {
        guard let total, total > 0 else { return TransferProgressView.bytes(completed) }
        let filled = Int(min(1, Double(completed) / Double(total)) * 20)
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled) + "] "
            + "\(TransferProgressView.bytes(completed)) / \(TransferProgressView.bytes(total))"
    }

    private static func tagged(_ level: LogLine.Level, _ text: String) -> String {
        level == .info ? text : "\(level.rawValue): \(text)"
    }
}
