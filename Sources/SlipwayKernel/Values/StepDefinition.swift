/// One step of a pipeline, as a recipe described it. A value: no Lua, no plugin instance.
public struct StepDefinition: Sendable, Hashable, Codable {
    public var id: StepID
    /// The plugin kind that runs it (`log`, `build`, `push`, `cmd`...).
    public var kind: String
    /// The plugin's own configuration (the constructor's table without the common options).
    public var configuration: ConfigValue
    public var options: StepOptions
    /// Steps that must finish first: from `after = {...}` and from steps used as inputs.
    public var dependencies: [StepID]
    /// Where the constructor was called.
    public var location: SourceLocation

    public init(
        id: StepID, kind: String, configuration: ConfigValue = .object([:]), options: StepOptions = StepOptions(),
        dependencies: [StepID] = [], location: SourceLocation
    ) {
        self.id = id
        self.kind = kind
        self.configuration = configuration
        self.options = options
        self.dependencies = dependencies
        self.location = location
    }
}
