public import SlipwayKernel

/// A trigger that reports a fixed list of versions: `test.trigger { versions = { "a", "b" } }`.
/// Returns those after the given one, oldest first, as `commit`-style events with a `sha` fact.
public struct ScriptedTrigger: PluginKind, Trigger {
    public struct Configuration: Decodable, Sendable {
        public var versions: [String]
    }

    public static let kind = "test.trigger"
    private let versions: [String]

    public init(configuration: Configuration) throws { versions = configuration.versions }

    public func check(after version: Version?, in context: StepContext) async throws -> [TriggerEvent] {
        let start = version.flatMap { seen in versions.firstIndex(of: seen.fields["sha"] ?? "") }.map { $0 + 1 } ?? 0
        return versions[start...].map { TriggerEvent(type: "commit", version: Version(["sha": $0]), facts: ["sha": $0]) }
    }
}

/// The plugins engine and recipe tests use: the test kinds above, plus whatever is passed.
public enum TestRegistry {
    public static func make(adding extra: [any PluginKind.Type] = []) throws -> PluginRegistry {
        var registry = PluginRegistry()
        try registry.register([CountingStep.self, ScriptedTrigger.self] + extra)
        return registry
    }
}
