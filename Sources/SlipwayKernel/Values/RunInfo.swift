/// The facts of one run, visible to recipes as `run` (`run.id`, `run.trigger`, ...).
public struct RunInfo: Sendable, Hashable, Codable {
    public var id: String
    /// What started it: `manual`, `commit`, `base_image`, `schedule`...
    public var trigger: String
    /// Facts of the triggering event and the source (commit sha, branch, base digest...).
    public var facts: [String: String]
    /// `--set` / `--values` input.
    public var values: ConfigValue

    public init(id: String, trigger: String = "manual", facts: [String: String] = [:], values: ConfigValue = .object([:])) {
        self.id = id
        self.trigger = trigger
        self.facts = facts
        self.values = values
    }

    /// The run as a recipe sees it.
    public var configValue: ConfigValue {
        var fields: [String: ConfigValue] = ["id": .string(id), "trigger": .string(trigger), "values": values]
        for (key, value) in facts where fields[key] == nil { fields[key] = .string(value) }
        return .object(fields)
    }
}
