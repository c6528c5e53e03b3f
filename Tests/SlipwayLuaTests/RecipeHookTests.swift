import Foundation
import SlipwayKernel
@testable import SlipwayLua
import Testing

struct RecipeHookTests {
    static let task = """
        local runs = 0
        return task {
          name = "webapp",
          source = "https://git.example.com/team/webapp.git#main",
          triggers = {
            test.trigger { versions = { "a1", "b2" }, filter = function(event) return event.sha ~= "skip" end },
          },
          timeout = "10m",
          pipeline = function(run)
            runs = runs + 1
            local img = test.step { id = "build" }
            return { test.step { id = "push", inputs = { img } } }
          end,
          on_success = function(run) log.info("ok " .. run.id .. " " .. runs) end,
          on_failure = function(run, err) log.error("failed: " .. err.message) return "handled" end,
        }
        """

    @Test func taskRecordsTriggersHooksAndSource() throws {
        let session = try RecipeFixtures.session(Self.task)
        guard case .task(let task) = session.recipe else { Issue.record("not a task"); return }
        #expect(task.name == "webapp")
        #expect(task.source == .string("https://git.example.com/team/webapp.git#main"))
        #expect(task.triggers.map(\.kind) == ["test.trigger"])
        #expect(task.triggers[0].configuration == .object(["versions": .array([.string("a1"), .string("b2")])]))
        #expect(task.triggers[0].filter?.location.line == 6)
        #expect(task.onFailure?.name == "on_failure")
    }

    @Test func pipelineIsEvaluatedPerRunWithFreshIDs() async throws {
        let session = try RecipeFixtures.session(Self.task)
        let (first, _) = try await session.pipeline(for: RunInfo(id: "r1"))
        let (second, _) = try await session.pipeline(for: RunInfo(id: "r2"))
        #expect(first.steps.map(\.id) == ["build", "push"])
        #expect(second.steps.map(\.id) == ["build", "push"])
        #expect(first.timeout?.duration == .seconds(600))
        #expect(first.onSuccess != nil)
    }

    /// A session kept for many runs frees what each run's `pipeline(run)` made once that run is
    /// released, and never the task's own hooks.
    @Test func releasingARunFreesTheHooksItsPipelineMade() async throws {
        let session = try RecipeFixtures.session("""
            return task {
              name = "long-lived",
              pipeline = function(run)
                return pipeline { name = "p", steps = { test.step { id = "a" } },
                  on_failure = function(r, err) return "run " .. run.id .. " failed" end }
              end,
              on_success = function(run) return "ok" end,
            }
            """)
        guard case .task(let task) = session.recipe else { Issue.record("not a task"); return }
        let baseline = await session.liveHookCount
        let (first, _) = try await session.pipeline(for: RunInfo(id: "r1"))
        let (second, _) = try await session.pipeline(for: RunInfo(id: "r2"))
        #expect(await session.liveHookCount == baseline + 2)
        await session.release(run: "r1")
        #expect(await session.liveHookCount == baseline + 1)
        await #expect(throws: RecipeError.self) { try await session.invoke(first.onFailure!, arguments: [.object([:]), .object([:])]) }
        #expect(try await session.invoke(second.onFailure!, arguments: [.object([:]), .object([:])]).value == .string("run r2 failed"))
        await session.release(run: "r2")
        #expect(await session.liveHookCount == baseline)
        #expect(try await session.invoke(task.onSuccess!, arguments: [.object([:])]).value == .string("ok"))
        // A later run's hooks get new ids: a reference kept from a released run names nothing.
        let (third, _) = try await session.pipeline(for: RunInfo(id: "r3"))
        #expect(third.onFailure?.id != first.onFailure?.id && third.onFailure?.id != second.onFailure?.id)
        for stale in [first.onFailure!, second.onFailure!] {
            await #expect(throws: RecipeError.self) { try await session.invoke(stale, arguments: [.object([:]), .object([:])]) }
        }
    }

    /// A hook reference kept from one evaluation (a stored task) is found again, by its name and
    /// place, in a fresh evaluation of the same recipe.
    @Test func aStoredHookIsResolvedInAFreshEvaluation() async throws {
        let first = try RecipeFixtures.session(Self.task)
        guard case .task(let stored) = first.recipe, let storedHook = stored.onFailure else { Issue.record("no hook"); return }
        let fresh = try RecipeFixtures.session(Self.task)
        let found = try #require(await fresh.hook(like: storedHook))
        #expect(found.name == "on_failure" && found.location.line == storedHook.location.line)
        let result = try await fresh.invoke(found, arguments: [.object([:]), .object(["message": .string("boom")])])
        #expect(result.value == .string("handled"))
        var moved = storedHook
        moved.location.line += 1
        #expect(await fresh.hook(like: moved) == nil)
    }

    @Test func hooksAreCalledLaterWithStateAndLogs() async throws {
        let session = try RecipeFixtures.session(Self.task)
        guard case .task(let task) = session.recipe else { Issue.record("not a task"); return }
        _ = try await session.pipeline(for: RunInfo(id: "r1"))
        let ok = try await session.invoke(task.onSuccess!, arguments: [RunInfo(id: "r1").configValue])
        #expect(ok.messages.map(\.text) == ["ok r1 1"])
        let failed = try await session.invoke(task.onFailure!, arguments: [.object([:]), .object(["message": .string("boom")])])
        #expect(failed.value == .string("handled"))
        #expect(failed.messages.first?.level == .error)
        #expect(failed.messages.first?.text.hasSuffix("failed: boom") == true)
    }

    @Test func triggerFilterDecidesPerEvent() async throws {
        let session = try RecipeFixtures.session(Self.task)
        guard case .task(let task) = session.recipe else { Issue.record("not a task"); return }
        let filter = try #require(task.triggers[0].filter)
        #expect(try await session.invoke(filter, arguments: [.object(["sha": .string("a1")])]).value == .bool(true))
        #expect(try await session.invoke(filter, arguments: [.object(["sha": .string("skip")])]).value == .bool(false))
    }

    @Test func hookLimitsAreEnforcedAndTheSessionSurvives() async throws {
        let session = try RecipeFixtures.session(
            """
            return task {
              name = "limits",
              pipeline = function(run) return {} end,
              on_success = function() while true do end end,
              on_failure = function() local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 1000000) .. i end end,
            }
            """, limits: RecipeLimits(hookInstructions: 1_000_000))
        guard case .task(let task) = session.recipe else { Issue.record("not a task"); return }
        await #expect {
            try await session.invoke(task.onSuccess!, arguments: [])
        } throws: { error in
            (error as? RecipeError)?.kind == .instructionLimit && (error as? RecipeError)?.location.line == 4
        }
        await #expect {
            try await session.invoke(task.onFailure!, arguments: [])
        } throws: { error in
            (error as? RecipeError)?.kind == .memoryLimit
        }
        // Still usable afterwards.
        let (pipeline, _) = try await session.pipeline(for: RunInfo(id: "again"))
        #expect(pipeline.steps.isEmpty)
        #expect(await session.stackDepth == 0)
    }

    @Test func stepHandlesFromAnEarlierRunAreRefused() async throws {
        let session = try RecipeFixtures.session(
            """
            local kept
            return task {
              name = "stale",
              pipeline = function(run)
                if kept then return { test.step { inputs = { kept } } } end
                kept = test.step { id = "first" }
                return { kept }
              end,
            }
            """)
        _ = try await session.pipeline(for: RunInfo(id: "r1"))
        await #expect {
            try await session.pipeline(for: RunInfo(id: "r2"))
        } throws: { error in
            (error as? RecipeError)?.message.contains("a step from an earlier evaluation") == true
        }
    }

    @Test func referencesAreReleasedSafelyAfterClose() throws {
        let state = try LuaState(limits: RecipeLimits())
        state.main.newTable()
        let reference = state.reference(name: "kept")
        state.close()
        _ = reference  // dropping it after close must not touch the closed state
    }
}
