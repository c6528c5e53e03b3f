import Foundation
import Logging
import SlipwayKernel
import SlipwayTesting
@testable import Triggers
import Testing

/// The commit and schedule triggers: what they report, and what they refuse.
struct TriggerTests {
    let context = StepContext(runID: "check", stepID: StepID("trigger"), logger: Logger(label: "test"), workDirectory: "/tmp")

    /// 2026-12-03 10:17:42 UTC, a Thursday. Expected times were computed with `date -u -d`.
    static let now: Int64 = 1_796_293_062

    static let schedules: [(String, Int64?, Int64?)] = [
        ("*/5 * * * *", nil, 1_796_292_900),  // 10:15
        ("*/5 * * * *", 1_796_292_900, nil),  // nothing new since 10:15
        ("0 3 * * *", nil, 1_796_266_800),  // 03:00 today
        ("0 3 * * *", 1_796_266_800, nil),
        ("0 3 * * *", 1_796_180_400, 1_796_266_800),  // missed yesterday's: coalesced into today's
        ("30 9 * * MON-FRI", nil, 1_796_290_200),  // Thursday 09:30
        ("0 0 * * SAT,SUN", nil, 1_795_910_400),  // Sunday 2026-11-29 00:00
        ("0 0 1 * *", nil, 1_796_083_200),  // 2026-12-01
        ("@daily", nil, 1_796_256_000),
        ("15 10 3 DEC *", nil, 1_796_292_900),
        ("0 0 1 1 *", 1_767_225_600, nil),  // the 2026 new year was the last
        ("0 12 13 * 5", nil, 1_795_780_800),  // any 13th or any Friday (either day field): Friday 2026-11-27 12:00
    ]

    @Test(arguments: schedules)
    func scheduleReportsTheLatestDueMinute(cron: String, after: Int64?, expected: Int64?) async throws {
        let trigger = try ScheduleTrigger(cron: cron, now: { Self.now })
        let events = try await trigger.check(after: after.map { Version(["time": String($0)]) }, in: context)
        #expect(events.first?.version.fields["time"] == expected.map(String.init), "\(cron)")
        #expect(events.count == (expected == nil ? 0 : 1))
    }

    static let badSchedules: [(String, String)] = [
        ("* * * *", "expected 5 fields"),
        ("61 * * * *", "minute '61': 61 is outside 0-59"),
        ("* 24 * * *", "hour '24'"),
        ("* * 0 * *", "day of month '0'"),
        ("* * * FOO *", "month 'FOO': 'FOO' is not a number or a name"),
        ("*/0 * * * *", "the step must be a number above 0"),
        ("5-1 * * * *", "the range 5-1 runs backwards"),
        ("1,,2 * * * *", "an empty list item"),
    ]

    @Test(arguments: badSchedules)
    func badSchedulesAreRefused(cron: String, expected: String) {
        #expect {
            try ScheduleTrigger(configuration: .init(cron: cron))
        } throws: { error in
            "\(error)".contains("cron: cron '\(cron)': \(expected)") || "\(error)".contains(expected)
        }
    }

    /// Polling a real `git daemon`: the head's sha, nothing when it has not moved, the new sha
    /// after a push; a branch the remote does not have is an error.
    @Test func commitReportsNewHeadsOfTheBranch() async throws {
        let server = try await GitServer.start()
        defer { server.stop() }
        let shas = try await server.createRepository("app", commits: [(branch: "main", files: ["a": "1"]), (branch: "next", files: ["a": "2"])])
        let trigger = try CommitTrigger(configuration: .init(url: server.gitURL("app"), branch: "main"))
        let first = try await trigger.check(after: nil, in: context)
        #expect(first.map(\.version) == [Version(["sha": shas[0]])])
        #expect(first.first?.facts["commit"] == shas[0] && first.first?.facts["branch"] == "main")
        #expect(try await trigger.check(after: first[0].version, in: context).isEmpty)
        try await server.setRef("refs/heads/main", to: shas[1], in: "app")
        #expect(try await trigger.check(after: first[0].version, in: context).map(\.version) == [Version(["sha": shas[1]])])

        let missing = try CommitTrigger(configuration: .init(url: server.gitURL("app"), branch: "gone"))
        await #expect(throws: (any Error).self) { try await missing.check(after: nil, in: context) }
        #expect(throws: ConfigurationError.self) { try CommitTrigger(configuration: .init(url: server.gitURL("app"), branch: "-x")) }
        #expect(throws: ConfigurationError.self) { try CommitTrigger(configuration: .init(url: server.gitURL("app") + "#main", branch: nil)) }
    }
}
