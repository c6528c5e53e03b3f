public import Foundation

/// One line of a run's log: when, which step (nil for the run itself), how severe, what.
public struct LogLine: Sendable, Hashable, Codable {
    public enum Level: String, Sendable, Codable, Comparable, CaseIterable {
        case debug, info, warning, error

        private var rank: Int { Self.allCases.firstIndex(of: self)! }
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rank < rhs.rank }
    }

    public var time: Date
    public var step: StepID?
    public var level: Level
    public var text: String

    public init(time: Date = Date(), step: StepID?, level: Level, text: String) {
        self.time = time
        self.step = step
        self.level = level
        self.text = text
    }

    /// `2026-11-27T01:02:03.456Z [build-1] text`.
    public var formatted: String {
        let stamp = time.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        let levelTag = level == .info ? "" : "\(level.rawValue): "
        return "\(stamp) [\(step?.rawValue ?? "run")] \(levelTag)\(text)"
    }
}

/// Receives log lines that are already masked.
public protocol LogSink: Sendable {
    func write(_ line: LogLine)
}
