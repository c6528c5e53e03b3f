import SlipwayKernel
import Testing

private struct Noop: PluginKind, StepRunner {
    struct Configuration: Decodable, Sendable {}
    static let kind = "noop"
    init(configuration: Configuration) throws {}
    func run(in context: StepContext) async throws -> StepOutput { .empty }
}

struct PipelineValidatorTests {
    func step(_ id: StepID, after: [StepID] = [], kind: String = "noop", line: Int = 1) -> StepDefinition {
        StepDefinition(id: id, kind: kind, dependencies: after, location: SourceLocation(file: "r.lua", line: line))
    }

    func validator() throws -> PipelineValidator {
        var registry = PluginRegistry()
        try registry.register(Noop.self)
        return PipelineValidator(registry: registry)
    }

    @Test func acceptsADiamond() throws {
        let pipeline = PipelineDefinition(
            name: "d", steps: [step("a"), step("b", after: ["a"]), step("c", after: ["a"]), step("d", after: ["b", "c"])],
            location: SourceLocation(file: "r.lua", line: 1))
        #expect(try validator().problems(in: pipeline).isEmpty)
    }

    @Test func reportsEveryProblemTogether() throws {
        let pipeline = PipelineDefinition(
            name: "bad",
            steps: [
                step("a", after: ["c"], line: 1), step("b", after: ["a"], line: 2), step("c", after: ["b"], line: 3),
                step("d", after: ["ghost"], line: 4), step("e", kind: "mystery", line: 5), step("a", line: 6),
                step("f", after: ["f"], line: 7),
            ],
            location: SourceLocation(file: "r.lua", line: 1))
        let messages = try validator().problems(in: pipeline).map(\.description)
        #expect(messages.contains("r.lua:6: step 'a': duplicate step id (first used at r.lua:1)"))
        #expect(messages.contains("r.lua:5: step 'e': unknown plugin kind 'mystery'"))
        #expect(messages.contains("r.lua:4: step 'd': depends on unknown step 'ghost'"))
        #expect(messages.contains("r.lua:7: step 'f': depends on itself"))
        #expect(messages.contains { $0.contains("dependency cycle: a → c → b → a") })
        #expect(messages.count == 5)
    }
}
