public import Logging
public import SlipwayKernel

/// The log of one run, written as `log` events of its ``RunEventStream``: whoever writes (the
/// engine, a plugin through its logger, a recipe hook), the line is masked and numbered there,
/// and nothing is kept here, so a step that prints a gigabyte costs no memory.
public struct RunLog: Sendable {
    public let events: RunEventStream

    public init(events: RunEventStream) { self.events = events }

    public func write(_ line: LogLine) { events.log(step: line.step, line.level, line.text) }

    public func write(step: StepID?, _ level: LogLine.Level, _ text: String) { events.log(step: step, level, text) }

    /// A swift-log `Logger` whose output is this log, bound to `step`.
    public func logger(for step: StepID?) -> Logger {
        var logger = Logger(label: "slipway.run") { _ in RunLogHandler(log: self, step: step) }
        logger[metadataKey: "run"] = .string(events.runID)
        logger.logLevel = .debug
        return logger
    }
}

/// Routes swift-log calls of plugins into a ``RunLog``.
struct RunLogHandler: LogHandler {
    let log: RunLog
    let step: StepID?
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let mapped: LogLine.Level =
            switch event.level {
            case .trace, .debug: .debug
            case .info, .notice: .info
            case .warning: .warning
            case .error, .critical: .error
            }
        log.write(step: step, mapped, event.message.description)
    }
}
