import ArgumentParser
import Foundation
import SlipwayKernel

/// `--progress`: how a run's events reach the terminal (buildx's convention). Results stay on
/// stdout whatever the mode; events go to stderr.
enum ProgressMode: String, ExpressibleByArgument, CaseIterable {
    /// tty when stderr is a terminal that can move its cursor, plain otherwise.
    case auto
    /// A live view of the running steps, redrawn in place (`TTYEventRenderer`).
    case tty
    /// One timestamped line per event worth reading, prefixed with the step.
    case plain
    /// One JSON object per event and line (`Docs/Events.md`).
    case json

    /// The observer that renders events in this mode.
    func observer(minimumLevel: LogLine.Level = .info) -> any RunObserver {
        switch self {
        case .auto:
            TerminalSize.isInteractive(STDERR_FILENO, environment: ProcessInfo.processInfo.environment)
                ? ProgressMode.tty.observer(minimumLevel: minimumLevel) : PlainEventRenderer(minimumLevel: minimumLevel)
        case .tty: TTYEventRenderer.onStandardError(minimumLevel: minimumLevel)
        case .plain: PlainEventRenderer(minimumLevel: minimumLevel)
        case .json: JSONEventRenderer()
        }
    }
}
