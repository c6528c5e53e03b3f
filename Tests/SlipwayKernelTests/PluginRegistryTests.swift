import SlipwayKernel
import Testing

private struct Noop: PluginKind, StepRunner {
    struct Configuration: Decodable, Sendable { var label: String? }
    static let kind = "noop"
    init(configuration: Configuration) throws {}
    func run(in context: StepContext) async throws -> StepOutput { .empty }
}

private struct Picky: PluginKind, StepRunner {
    struct Configuration: Decodable, Sendable { var size: Int }
    static let kind = "ns.picky"
    init(configuration: Configuration) throws {
        guard configuration.size > 0 else { throw ConfigurationError(path: [.key("size")], message: "must be positive") }
    }
    func run(in context: StepContext) async throws -> StepOutput { .empty }
}

private struct NoRole: PluginKind {
    struct Configuration: Decodable, Sendable {}
    static let kind = "norole"
    init(configuration: Configuration) throws {}
}

private struct BadName: PluginKind, StepRunner {
    struct Configuration: Decodable, Sendable {}
    static let kind = "bad name"
    init(configuration: Configuration) throws {}
    func run(in context: StepContext) async throws -> StepOutput { .empty }
}

struct PluginRegistryTests {
    @Test func registersKindsWithTheirRole() throws {
        var registry = PluginRegistry()
        try registry.register([Noop.self, Picky.self])
        #expect(registry.kinds(for: .step) == ["noop", "ns.picky"])
    }

    @Test func duplicateKindIsAStartupError() throws {
        var registry = PluginRegistry()
        try registry.register(Noop.self)
        #expect(throws: PluginError.duplicateKind("noop")) { try registry.register(Noop.self) }
    }

    @Test func typesWithoutARoleOrWithBadNamesAreRefused() {
        var registry = PluginRegistry()
        #expect(throws: PluginError.noRole("norole")) { try registry.register(NoRole.self) }
        #expect(throws: PluginError.invalidKind("bad name")) { try registry.register(BadName.self) }
    }

    @Test func instantiationValidatesConfigurationWithPath() throws {
        var registry = PluginRegistry()
        try registry.register(Picky.self)
        #expect {
            _ = try registry.instantiate("ns.picky", configuration: .object(["size": .int(0)]), path: [.key("step")])
        } throws: { error in
            (error as? ConfigurationError)?.description == "step.size: must be positive"
        }
        #expect(throws: PluginError.unknownKind("nope")) { _ = try registry.instantiate("nope", configuration: .null) }
    }
}
