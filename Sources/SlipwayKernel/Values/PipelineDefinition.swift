/// An immutable description of one run's graph: what a recipe evaluates to. The engine runs it
/// with async Swift, outside Lua.
public struct PipelineDefinition: Sendable, Hashable, Codable {
    public var name: String
    /// Steps in the order the recipe created them (dependencies always come first).
    public var steps: [StepDefinition]
    /// Maximum time for the whole run.
    public var timeout: DurationValue?
    public var onSuccess: HookReference?
    public var onFailure: HookReference?
    public var location: SourceLocation

    public init(
        name: String, steps: [StepDefinition], timeout: DurationValue? = nil, onSuccess: HookReference? = nil,
        onFailure: HookReference? = nil, location: SourceLocation
    ) {
        self.name = name
        self.steps = steps
        self.timeout = timeout
        self.onSuccess = onSuccess
        self.onFailure = onFailure
        self.location = location
    }

    public func step(_ id: StepID) -> StepDefinition? { steps.first { $0.id == id } }
}
