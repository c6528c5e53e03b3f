import Foundation
import SlipwayKernel
import SlipwayTesting
@testable import SlipwayLua
import Testing

/// The fixtures under Tests/Fixtures/Recipes, each named for what it provokes.
struct SandboxFixtureTests {
    func evaluate(_ name: String, limits: RecipeLimits = RecipeLimits()) throws -> RecipeSession {
        try RecipeSession(file: RecipeFixtures.path(name), registry: RecipeFixtures.registry(), run: RunInfo(id: "t"), limits: limits)
    }

    func refusal(_ name: String, limits: RecipeLimits = RecipeLimits()) -> RecipeError? {
        RecipeFixtures.recipeError { try evaluate(name, limits: limits) }
    }

    @Test(arguments: [
        ("syntax_error.lua", RecipeError.Kind.syntax, 3, "'}' expected (to close '{' at line 2)"),
        ("uses_os_execute.lua", .sandbox, 1, "'os' is not available in recipes"),
        ("uses_io_open.lua", .sandbox, 1, "'io' is not available in recipes"),
        ("requires_outside_root.lua", .sandbox, 1, "'../x' is not a module name"),
        ("loads_bytecode.lua", .sandbox, 2, "binary chunks are not allowed"),
        ("uses_debug.lua", .sandbox, 2, "'debug' is not available in recipes"),
        ("uses_string_dump.lua", .runtime, 2, "attempt to call a nil value (field 'dump')"),
        ("unknown_global.lua", .runtime, 2, "unknown name 'bulid'"),
        ("returns_nothing.lua", .invalid, 0, "a recipe must return pipeline { ... } or task { ... }, got nil"),
        ("constructor_bad_argument.lua", .runtime, 2, "echo: bad argument #1 (table expected, got string)"),
        ("mixed_table.lua", .runtime, 2, "table mixes list items with named keys"),
        ("reserved_key.lua", .runtime, 1, "keys starting with '$' are reserved"),
        // Used to crash the process (C stack overflow, then free() of a corrupt pointer).
        ("deeply_nested_table.lua", .runtime, 3, "nested more than 64 tables deep"),
        ("table_contains_itself.lua", .runtime, 3, "a table contains itself"),
        // Used to hang: finalisers run with the count hook off.
        ("endless_finalizer.lua", .sandbox, 2, "finalisers (__gc) are not allowed in recipes"),
        ("finalizer_through_handle_metatable.lua", .runtime, 2, "attempt to index a boolean value"),
    ])
    func fixtureIsRefusedWithFileAndLine(name: String, kind: RecipeError.Kind, line: Int, message: String) throws {
        let error = try #require(refusal(name))
        #expect(error.kind == kind)
        #expect(error.location.file.hasSuffix(name))
        #expect(error.location.line == line)
        #expect(error.message.contains(message), "\(error.message)")
    }

    @Test func osExecuteHasNoEffect() {
        let marker = "/tmp/slipway-pwned"
        try? FileManager.default.removeItem(atPath: marker)
        _ = refusal("uses_os_execute.lua")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func infiniteLoopHitsTheInstructionLimit() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let error = try #require(refusal("infinite_loop.lua", limits: RecipeLimits(evaluationInstructions: 5_000_000)))
        #expect(error.kind == .instructionLimit)
        #expect(error.location.line == 2)
        #expect(error.description.contains("infinite_loop.lua:2: recipe exceeded its instruction limit (5000000 instructions)"))
        // Generous bound: a hang would run into the test's own timeout instead.
        #expect(clock.now - start < .seconds(60))
    }

    /// A backtracking pattern used to run for minutes inside one call to string.find, where the
    /// count hook never fires; the matcher now charges its steps to the same budget.
    @Test func backtrackingPatternHitsTheInstructionLimit() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let error = try #require(refusal("backtracking_pattern.lua", limits: RecipeLimits(evaluationInstructions: 5_000_000)))
        #expect(error.kind == .instructionLimit)
        #expect(error.location.line == 3, "\(error)")
        #expect(clock.now - start < .seconds(60))
    }

    @Test func patternsStillMatchAsInLua() throws {
        let recipe = try Scratch.recipe("""
            local a, b, word = ("key = value"):find("(%w+)%s*=")
            local swapped = ("hello world"):gsub("(%w+) (%w+)", "%2 %1")
            local parts = {}
            for part in ("a,b,,c"):gmatch("([^,]*)") do parts[#parts + 1] = "[" .. part .. "]" end
            local balanced = ("f(a(b)c) x"):match("%b()")
            local frontier = ("THE (quick) fox"):find("%f[%a]%a+", 5)
            return pipeline { name = "p", steps = { echo { message = table.concat({ a, b, word, swapped, table.concat(parts), balanced, frontier }, "|") } } }
            """)
        let session = try RecipeSession(file: recipe, registry: RecipeFixtures.registry(), run: RunInfo(id: "t"))
        guard case .pipeline(let pipeline) = session.recipe else { Issue.record("not a pipeline"); return }
        let message = try #require(pipeline.steps.first?.configuration["message"])
        #expect(message == .string("1|5|key|world hello|[a][b][][c]|(a(b)c)|6"))
    }

    @Test func catchingTheLimitInPcallDoesNotEscapeIt() throws {
        let error = try #require(refusal("pcall_swallows_limit.lua", limits: RecipeLimits(evaluationInstructions: 2_000_000)))
        #expect(error.kind == .instructionLimit)
    }

    @Test func slowLibraryCallHitsTheTimeLimit() throws {
        let error = try #require(
            refusal("infinite_loop.lua", limits: RecipeLimits(evaluationInstructions: 0, seconds: 0.2)))
        #expect(error.kind == .timeLimit)
    }

    @Test(arguments: ["memory_hog.lua", "table_hog.lua"])
    func allocationBombsHitTheMemoryLimit(name: String) throws {
        let error = try #require(refusal(name))
        #expect(error.kind == .memoryLimit)
        #expect(error.location.file.hasSuffix(name))
        #expect(error.message == "recipe exceeded its memory limit (64 MiB)")
    }

    @Test func unknownKeyIsAValidationProblemWithLocation() throws {
        #expect {
            try evaluate("unknown_key.lua")
        } throws: { error in
            guard let error = error as? PipelineValidationError, error.problems.count == 1 else { return false }
            let problem = error.problems[0]
            return problem.location?.line == 1 && problem.step == "echo-1" && problem.message == "unknown key 'mesage'"
        }
    }

    @Test func cycleIsReportedBeforeAnythingRuns() throws {
        #expect {
            try evaluate("cycle.lua")
        } throws: { error in
            (error as? PipelineValidationError)?.problems.contains { $0.message == "dependency cycle: a → c → b → a" } == true
        }
    }

    @Test func everyFixtureIsCoveredByATest() throws {
        let covered: Set<String> = [
            "syntax_error.lua", "uses_os_execute.lua", "uses_io_open.lua", "requires_outside_root.lua", "loads_bytecode.lua",
            "uses_debug.lua", "uses_string_dump.lua", "unknown_global.lua", "returns_nothing.lua", "constructor_bad_argument.lua",
            "mixed_table.lua", "reserved_key.lua", "infinite_loop.lua", "pcall_swallows_limit.lua", "memory_hog.lua",
            "table_hog.lua", "unknown_key.lua", "cycle.lua", "deeply_nested_table.lua", "table_contains_itself.lua",
            "endless_finalizer.lua", "finalizer_through_handle_metatable.lua", "backtracking_pattern.lua",
        ]
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: RecipeFixtures.fixtures.path))
        #expect(present == covered)
    }
}
