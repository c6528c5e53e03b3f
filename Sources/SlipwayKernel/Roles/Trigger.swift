/// Turns the outside world into events for a task (`commit`, `base_image`, `schedule`...).
///
/// Like Concourse's `check`: given the last version the engine has seen, return the new ones,
/// oldest first. The engine persists versions and dedupes on them; the trigger keeps no state.
public protocol Trigger: Sendable {
    func check(after version: Version?, in context: StepContext) async throws -> [TriggerEvent]
}

/// An opaque, comparable position in a trigger's history (`{ref, sha}`, `{base, digest}`).
public struct Version: Sendable, Hashable, Codable, CustomStringConvertible {
    public var fields: [String: String]

    public init(_ fields: [String: String]) { self.fields = fields }

    public var description: String { fields.keys.sorted().map { "\($0)=\(fields[$0]!)" }.joined(separator: ",") }
}

/// One reason to start a run.
public struct TriggerEvent: Sendable, Hashable, Codable {
    /// `commit`, `pull_request`, `base_image`, `schedule`, `webhook`.
    public var type: String
    public var version: Version
    /// Facts that become run variables (`sha`, `branch`, `base_digest`...).
    public var facts: [String: String]

    public init(type: String, version: Version, facts: [String: String] = [:]) {
        self.type = type
        self.version = version
        self.facts = facts
    }
}
