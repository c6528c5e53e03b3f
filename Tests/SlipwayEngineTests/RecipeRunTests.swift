import Foundation
import SlipwayEngine
import SlipwayKernel
import SlipwayLua
import SlipwayTesting
import Testing

/// Recipes end to end through the engine: hooks called by the engine, with masked logs.
struct RecipeRunTests {
    func write(_ text: String) throws -> String { try Scratch.recipe(text) }

    @Test func onFailureHookRunsWithTheErrorAndItsLogsAreMasked() async throws {
        let prefix = "h\(UUID().uuidString.prefix(8))-"
        let file = try write(
            """
            return task {
              name = "hooks",
              pipeline = function(run)
                return { test.step { id = "boom", name = "\(prefix)boom", fail_times = -1 } }
              end,
              on_failure = function(run, err)
                log.error("hook saw " .. err.step .. ": " .. err.message .. " with token hunter22")
              end,
            }
            """)
        let registry = try TestRegistry.make()
        let session = try RecipeSession(file: file, registry: registry, run: RunInfo(id: "r"))
        let (pipeline, _) = try await session.pipeline(for: RunInfo(id: "r"))
        let sink = CapturingObserver()
        let runner = PipelineRunner(
            registry: registry, options: RunOptions(secrets: ["token": "hunter22"], hooks: session, observers: [sink]))
        let report = try await runner.run(pipeline, info: RunInfo(id: "r"))
        #expect(report.status == .failed)
        let hookLine = try #require(sink.lines.first { $0.text.contains("hook saw") })
        #expect(hookLine.text.contains("hook saw boom: step 'boom' failed: scripted failure on call 1 with token ***"))
        #expect(!sink.text.contains("hunter22"))
    }

    @Test func onSuccessHookFailureIsLoggedNotFatal() async throws {
        let file = try write(
            """
            return task {
              name = "hooks",
              pipeline = function(run) return { test.step { id = "fine" } } end,
              on_success = function(run) error("hook broke") end,
            }
            """)
        let registry = try TestRegistry.make()
        let session = try RecipeSession(file: file, registry: registry, run: RunInfo(id: "r"))
        let (pipeline, _) = try await session.pipeline(for: RunInfo(id: "r"))
        let sink = CapturingObserver()
        let report = try await PipelineRunner(registry: registry, options: RunOptions(hooks: session, observers: [sink]))
            .run(pipeline, info: RunInfo(id: "r"))
        #expect(report.status == .succeeded)
        #expect(sink.lines.contains { $0.level == .error && $0.text.contains("on_success hook failed") && $0.text.contains("hook broke") })
    }
}
