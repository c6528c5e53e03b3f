import Foundation
public import SlipwayKernel

/// `schedule { cron = "0 3 * * *" }`: a run at each scheduled minute, UTC. A task may have
/// several. Missed times (the server was down) are coalesced: one run for the latest of them.
/// The version is the scheduled minute, so a time is never run twice.
public struct ScheduleTrigger: PluginKind, Trigger {
    public struct Configuration: Decodable, Sendable {
        public var cron: String
    }

    public static let kind = "schedule"
    public static let summary = "start runs on a cron schedule (5 fields, UTC): schedule { cron = \"0 3 * * *\" }"
    let expression: CronExpression
    /// Seconds since 1970 now; the real time unless a test gives another.
    let now: @Sendable () -> Int64

    public init(configuration: Configuration) throws {
        do {
            expression = try CronExpression(parsing: configuration.cron)
        } catch {
            throw ConfigurationError(path: [.key("cron")], message: error.description)
        }
        now = { Int64(Date().timeIntervalSince1970) }
    }

    init(cron: String, now: @escaping @Sendable () -> Int64) throws {
        expression = try CronExpression(parsing: cron)
        self.now = now
    }

    /// The latest scheduled minute since `version` (since the first check: the latest one up to
    /// now, which the supervisor takes as its starting point).
    public func check(after version: Version?, in context: StepContext) async throws -> [TriggerEvent] {
        let last = version?.fields["time"].flatMap { Int64($0) }
        guard let due = expression.latest(after: last, upTo: now()) else { return [] }
        let iso = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(due)))
        return [TriggerEvent(type: "schedule", version: Version(["time": String(due)]), facts: ["scheduled": iso, "cron": expression.description])]
    }
}
