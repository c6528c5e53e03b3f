/// A long-lived task: a source, the triggers that start runs, and a `pipeline` hook that
/// describes each run's graph (evaluated per run, with the run's facts).
public struct TaskDefinition: Sendable, Hashable, Codable {
    public var name: String
    /// The task's source, as written (a context locator or a source constructor's table).
    public var source: ConfigValue?
    public var triggers: [TriggerDefinition]
    /// The recipe function that returns the steps of one run.
    public var pipeline: HookReference
    public var timeout: DurationValue?
    public var onSuccess: HookReference?
    public var onFailure: HookReference?
    public var location: SourceLocation

    public init(
        name: String, source: ConfigValue?, triggers: [TriggerDefinition], pipeline: HookReference,
        timeout: DurationValue? = nil, onSuccess: HookReference? = nil, onFailure: HookReference? = nil,
        location: SourceLocation
    ) {
        self.name = name
        self.source = source
        self.triggers = triggers
        self.pipeline = pipeline
        self.timeout = timeout
        self.onSuccess = onSuccess
        self.onFailure = onFailure
        self.location = location
    }
}

/// A trigger as a task declares it: a kind, its configuration and an optional `filter` hook.
public struct TriggerDefinition: Sendable, Hashable, Codable {
    public var kind: String
    public var configuration: ConfigValue
    public var filter: HookReference?
    public var location: SourceLocation

    public init(kind: String, configuration: ConfigValue, filter: HookReference?, location: SourceLocation) {
        self.kind = kind
        self.configuration = configuration
        self.filter = filter
        self.location = location
    }
}
