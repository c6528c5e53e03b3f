public import Logging
public import SlipwayKernel
import Synchronization

/// The log of one run. Every line is masked for the run's secrets before it is kept or passed
/// on, whoever wrote it: the engine, a plugin through its logger, or a recipe hook.
public final class RunLog: LogSink, Sendable {
    private let masker: SecretMasker
    private let downstream: [any LogSink]
    private let kept = Mutex<[LogLine]>([])

    public init(secrets: some Sequence<String>, sinks: [any LogSink]) {
        masker = SecretMasker(secrets: secrets)
        downstream = sinks
    }

    public func write(_ line: LogLine) {
        var masked = line
        masked.text = masker.mask(line.text)
        kept.withLock { $0.append(masked) }
        for sink in downstream { sink.write(masked) }
    }

    public func write(step: StepID?, _ level: LogLine.Level, _ text: String) {
        write(LogLine(step: step, level: level, text: text))
    }

    /// Everything written so far, masked.
    public var lines: [LogLine] { kept.withLock { $0 } }

    /// A swift-log `Logger` whose output is this log, bound to `step`.
    public func logger(for step: StepID?, runID: String) -> Logger {
        var logger = Logger(label: "slipway.run") { _ in RunLogHandler(log: self, step: step) }
        logger[metadataKey: "run"] = .string(runID)
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

    func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        let mapped: LogLine.Level =
            switch level {
            case .trace, .debug: .debug
            case .info, .notice: .info
            case .warning: .warning
            case .error, .critical: .error
            }
        log.write(step: step, mapped, message.description)
    }
}
