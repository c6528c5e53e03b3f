import Foundation
import SlipwayKernel
@testable import SlipwayLua
import Testing

struct RecipeEvaluationTests {
    @Test func dependenciesComeFromDataAndAfter() throws {
        let pipeline = try RecipeFixtures.pipeline(
            """
            local a = test.step { id = "a" }
            local b = test.step { inputs = { a } }
            local c = test.step { after = { b, "a" } }
            return pipeline { name = "deps", steps = { c } }
            """)
        #expect(pipeline.name == "deps")
        #expect(pipeline.steps.map(\.id) == ["a", "test-step-1", "test-step-2"])
        #expect(pipeline.step("test-step-1")?.dependencies == ["a"])
        #expect(pipeline.step("test-step-2")?.dependencies == ["test-step-1", "a"])
        #expect(pipeline.step("a")?.location.line == 1)
        #expect(pipeline.step("test-step-2")?.location.line == 3)
    }

    @Test func positionalItemsBecomeInputs() throws {
        let pipeline = try RecipeFixtures.pipeline(
            """
            local a = echo { id = "a", message = "a" }
            local b = echo { a, message = "b" }
            return pipeline { steps = { b } }
            """)
        #expect(pipeline.step("echo-1")?.configuration["inputs"] == .array([.step("a")]))
        #expect(pipeline.step("echo-1")?.dependencies == ["a"])
    }

    @Test func commonOptionsAreSeparatedFromPluginConfiguration() throws {
        let pipeline = try RecipeFixtures.pipeline(
            """
            local a = test.step { id = "a", timeout = "1m30s", retries = 2, retry_delay = 1, ignore_errors = true,
              start_delay = "500ms", ["repeat"] = 3, env = { A = "1" }, secrets = { "token" }, sleep_ms = 5 }
            return pipeline { steps = { a } }
            """)
        let step = try #require(pipeline.step("a"))
        #expect(step.configuration == .object(["sleep_ms": .int(5)]))
        #expect(step.options.timeout?.duration == .seconds(90))
        #expect(step.options.retries == 2)
        #expect(step.options.retryDelay?.duration == .seconds(1))
        #expect(step.options.ignoreErrors)
        #expect(step.options.startDelay?.duration == .milliseconds(500))
        #expect(step.options.repeat == 3)
        #expect(step.options.env == ["A": "1"])
        #expect(step.options.secrets == ["token"])
    }

    @Test func valuesAndRunAreVisible() throws {
        let pipeline = try RecipeFixtures.pipeline(
            """
            local a = echo { message = values.greeting .. " from " .. run.id .. " via " .. run.trigger }
            return pipeline { name = values.name, steps = { a } }
            """, values: .object(["greeting": .string("hi"), "name": .string("named")]))
        #expect(pipeline.name == "named")
        #expect(pipeline.steps[0].configuration["message"] == .string("hi from test via manual"))
    }

    @Test func stepsOutsideThePipelineAreWarnedAbout() throws {
        let session = try RecipeFixtures.session(
            """
            local used = echo { message = "in" }
            local forgotten = echo { message = "out" }
            return pipeline { steps = { used } }
            """)
        #expect(session.messages.contains { $0.level == .warning && $0.text.contains("step 'echo-2' is not part of the pipeline") })
    }

    @Test func duplicateIDsAreRefusedWhereTheSecondIsMade() throws {
        let error = RecipeFixtures.recipeError {
            try RecipeFixtures.session(
                """
                local a = echo { id = "same", message = "1" }
                local b = echo { id = "same", message = "2" }
                """)
        }
        #expect(error?.location.line == 2)
        #expect(error?.message.contains("echo: id 'same' is already used by the step at ") == true)
        #expect(error?.message.contains("recipe.lua:1") == true)
    }

    @Test func automaticIDsSkipTakenOnes() throws {
        let pipeline = try RecipeFixtures.pipeline(
            """
            local a = echo { id = "echo-1", message = "1" }
            local b = echo { message = "2" }
            return pipeline { steps = { a, b } }
            """)
        #expect(pipeline.steps.map(\.id) == ["echo-1", "echo-2"])
    }

    /// A trigger's configuration is checked where it is written, as a context source's is.
    @Test func badTriggerConfigurationIsRefusedAtItsLine() throws {
        #expect {
            try RecipeFixtures.session(
                """
                return task {
                  name = "t",
                  triggers = { test.trigger { versions = 3 } },
                  pipeline = function(run) return {} end,
                }
                """)
        } throws: { error in
            "\(error)".contains("recipe.lua:3: test.trigger: versions: expected")
        }
    }

    @Test func graphAndConfigurationProblemsAreReportedTogether() throws {
        #expect {
            try RecipeFixtures.session(
                """
                local a = echo { id = "a", message = "1", after = { "ghost" } }
                local b = echo { id = "b", message = 2 }
                local c = sleep { duration = "soon", retries = -1 }
                return pipeline { steps = { a, b, c } }
                """)
        } throws: { error in
            guard let error = error as? PipelineValidationError else { return false }
            let text = error.problems.map(\.description)
            return error.problems.count == 4
                && text.contains { $0.hasSuffix("recipe.lua:1: step 'a': depends on unknown step 'ghost'") }
                && text.contains { $0.hasSuffix("recipe.lua:2: step 'b': message: expected a string, got number") }
                && text.contains { $0.hasSuffix("recipe.lua:3: step 'sleep-1': duration: 'soon' is not a duration (examples: \"30s\", \"1m30s\", \"500ms\", 10)") }
                && text.contains { $0.hasSuffix("recipe.lua:3: step 'sleep-1': retries: must be 0 or more, got -1") }
        }
    }

    @Test func constructorsWorkInsideCoroutines() throws {
        let pipeline = try RecipeFixtures.pipeline(
            """
            local made
            local co = coroutine.create(function() made = echo { id = "inside", message = "x" } end)
            assert(coroutine.resume(co))
            return pipeline { steps = { made } }
            """)
        #expect(pipeline.steps.map(\.id) == ["inside"])
    }

    @Test func aSwiftErrorReachesLuaPcall() async throws {
        let session = try RecipeFixtures.session(
            """
            local ok, err = pcall(echo, "not a table")
            assert(not ok)
            log.info("caught: " .. err)
            return pipeline { steps = { echo { message = "after" } } }
            """)
        #expect(session.messages.contains { $0.text.contains("caught:") && $0.text.contains("bad argument #1") })
        #expect(await session.stackDepth == 0)
    }

    @Test func metamethodsAreNotRunWhileReadingTables() throws {
        // Raw access: the __index that raises is never called; the missing key is reported.
        #expect {
            try RecipeFixtures.session(
                """
                local sneaky = setmetatable({}, { __index = function() error("boom") end })
                return pipeline { steps = { echo(sneaky) } }
                """)
        } throws: { error in
            (error as? PipelineValidationError)?.problems.first?.message == "message: required key is missing"
        }
    }

    @Test func stepHandlesExposeIDAndKind() throws {
        let session = try RecipeFixtures.session(
            """
            local a = echo { message = "x" }
            log.info(a.id, a.kind, tostring(a))
            return pipeline { steps = { a } }
            """)
        #expect(session.messages.contains { $0.text == "echo-1\techo\tstep 'echo-1' (echo)" })
    }

    @Test func requireIsRootedAtTheRecipeFolderAndLibraries() throws {
        let library = try RecipeFixtures.folder(["shared/naming.lua": "return { tag = function(s) return 'v-' .. s end }"])
        let session = try RecipeFixtures.session(
            """
            local helpers = require "helpers"
            local naming = require "shared.naming"
            assert(require "helpers" == helpers)
            return pipeline { steps = { echo { message = naming.tag(helpers.name) } } }
            """, extraFiles: ["helpers.lua": "return { name = 'app' }"], libraryRoots: [library.path])
        guard case .pipeline(let pipeline) = session.recipe else { Issue.record("not a pipeline"); return }
        #expect(pipeline.steps[0].configuration["message"] == .string("v-app"))
    }

    @Test func requireRefusesSymlinksOutOfItsRoot() throws {
        let outside = try RecipeFixtures.folder(["secret.lua": "return 'outside'"])
        let folder = try RecipeFixtures.folder(["recipe.lua": "local s = require 'escape'\nreturn pipeline { steps = {} }"])
        try FileManager.default.createSymbolicLink(
            atPath: folder.appendingPathComponent("escape.lua").path, withDestinationPath: outside.appendingPathComponent("secret.lua").path)
        let error = RecipeFixtures.recipeError {
            try RecipeSession(file: folder.appendingPathComponent("recipe.lua").path, registry: RecipeFixtures.registry(), run: RunInfo(id: "t"))
        }
        #expect(error?.kind == .sandbox)
        #expect(error?.message.contains("leads outside") == true)
    }

    @Test func requireReportsCyclesAndMissingModules() throws {
        let cycle = RecipeFixtures.recipeError {
            try RecipeFixtures.session(
                "require 'a'", extraFiles: ["a.lua": "local b = require 'b'\nreturn b", "b.lua": "local a = require 'a'\nreturn a"])
        }
        #expect(cycle?.message.contains("module 'a' requires itself (a cycle: a → b → a)") == true)
        #expect(cycle?.location.file.hasSuffix("b.lua") == true)
        let missing = RecipeFixtures.recipeError { try RecipeFixtures.session("require 'nowhere'") }
        #expect(missing?.message.contains("module 'nowhere' not found") == true)
    }

    @Test func errorsInRequiredModulesNameTheModuleFile() throws {
        let error = RecipeFixtures.recipeError {
            try RecipeFixtures.session("require 'broken'", extraFiles: ["broken.lua": "local x = 1\nerror('bad module')"])
        }
        #expect(error?.location.file.hasSuffix("broken.lua") == true)
        #expect(error?.location.line == 2)
    }

    @Test func stackIsBalancedAfterEveryBridgeCall() async throws {
        let session = try RecipeFixtures.session(
            """
            return task {
              name = "balanced",
              triggers = { test.trigger { versions = { "a" }, filter = function(e) return e.sha ~= "skip" end } },
              pipeline = function(run) return { echo { message = run.id } } end,
              on_failure = function(run, err) error("hook failed on purpose") end,
            }
            """)
        #expect(await session.stackDepth == 0)
        guard case .task(let task) = session.recipe else { Issue.record("not a task"); return }
        _ = try await session.pipeline(for: RunInfo(id: "r1"))
        #expect(await session.stackDepth == 0)
        _ = try await session.invoke(task.triggers[0].filter!, arguments: [.object(["sha": .string("x")])])
        #expect(await session.stackDepth == 0)
        await #expect(throws: RecipeError.self) { try await session.invoke(task.onFailure!, arguments: [.null, .null]) }
        #expect(await session.stackDepth == 0)
    }
}
