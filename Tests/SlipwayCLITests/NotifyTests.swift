import Foundation
import SlipwayTesting
import Synchronization
import Testing

/// `notify { … }` from a run's end hooks: sent after the run, retried, and its outcome kept in
/// the run's log (and so in the run record).
struct NotifyTests {
    let slipway = CommandRunner.slipway()

    @Test func hooksNotifyAndTheOutcomeIsLogged() async throws {
        let calls = Mutex<[LoopbackHTTPServer.Request]>([])
        let receiver = try await LoopbackHTTPServer.start { request in
            let count = calls.withLock { $0.append(request); return $0.count }
            // The first delivery fails: the notifier must try again.
            return LoopbackHTTPServer.Response(status: count == 1 ? 503 : 204)
        }
        defer { receiver.stop() }
        let file = try Scratch.recipe(
            """
            return task {
              name = "notified",
              pipeline = function(run) return { echo { message = "hi" } } end,
              on_success = function(run)
                notify { url = "http://127.0.0.1:\(receiver.port)/hook", body = { run = run.id, status = run.status }, headers = { ["X-Team"] = "blue" } }
              end,
            }
            """)
        let result = try await slipway.run(["run", file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("notify http://127.0.0.1:\(receiver.port)/hook: delivered (HTTP 204) after 2 attempts"), "\(result.stderr)")
        let received = calls.withLock { $0 }
        #expect(received.count == 2)
        let last = try #require(received.last)
        #expect(last.method == "POST" && last.header("Content-Type") == "application/json" && last.header("X-Team") == "blue")
        let body = try JSONSerialization.jsonObject(with: last.body) as? [String: String]
        #expect(body?["status"] == "succeeded" && body?["run"]?.isEmpty == false)
    }

    @Test func aRefusedNotificationIsReportedAndNotRetried() async throws {
        let calls = Mutex(0)
        let receiver = try await LoopbackHTTPServer.start { _ in
            calls.withLock { $0 += 1 }
            return LoopbackHTTPServer.Response(status: 400)
        }
        defer { receiver.stop() }
        let file = try Scratch.recipe(
            """
            return task {
              name = "refused",
              pipeline = function(run) return { fail { message = "no" } } end,
              on_failure = function(run, err) notify { url = "http://127.0.0.1:\(receiver.port)/", body = err.message } end,
            }
            """)
        let result = try await slipway.run(["run", file])
        #expect(result.status == 1)
        #expect(result.stderr.contains("not delivered after 1 attempt: HTTP 400"), "\(result.stderr)")
        #expect(calls.withLock { $0 } == 1)
    }

    @Test func notifyOutsideAHookIsRefusedWithItsLine() async throws {
        let file = try Scratch.recipe(
            """
            notify { url = "http://127.0.0.1:9/" }
            return pipeline { steps = { echo { message = "x" } } }
            """)
        let result = try await slipway.run(["plan", file])
        #expect(result.status == 64)
        #expect(result.stderr.contains(":1:") && result.stderr.contains("only on_success and on_failure hooks may notify"), "\(result.stderr)")
    }
}
