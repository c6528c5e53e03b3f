import ArgumentParser
import Foundation
import SlipwayKernel

/// `--progress`: how a run's events reach the terminal (buildx's convention). Results stay on
/// stdout whatever the mode; events go to stderr.
enum ProgressMode: String, ExpressibleByArgument, CaseIterable {
    /// plain today; a live terminal view is planned for terminals.
    case auto
    /// One timestamped line per event worth reading, prefixed with the step.
    case plain
    /// One JSON object per event and line (`Docs/Events.md`).
    case json

    /// The observer that renders events in this mode.
    func observer(minimumLevel: LogLine.Level = .info) -> any RunObserver {
        switch self {
        case .auto, .plain: PlainEventRenderer(minimumLevel: minimumLevel)
        case .json: JSONEventRenderer()
        }
    }
}
