/// A recipe function (a hook such as `on_failure` or a trigger `filter`) held by the recipe
/// session that evaluated it. The value is only a handle: the function is called through a
/// ``HookInvoker``, under the same sandbox and limits as the recipe.
public struct HookReference: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The session-local handle.
    public var id: Int
    /// What the recipe called it (`on_failure`, `filter`, `pipeline`).
    public var name: String
    public var location: SourceLocation

    public init(id: Int, name: String, location: SourceLocation) {
        self.id = id
        self.name = name
        self.location = location
    }

    public var description: String { "\(name) (\(location))" }
}

/// Calls recipe hooks. Implemented by the Lua recipe session; the engine only sees this.
public protocol HookInvoker: Sendable {
    /// Calls `hook` with `arguments` and returns its first result (`.null` when none).
    /// - Throws: ``RecipeError`` when the hook raises an error or exceeds a limit.
    func invoke(_ hook: HookReference, arguments: [ConfigValue]) async throws -> HookResult
}

/// What a hook returned and what it logged while running.
public struct HookResult: Sendable, Equatable {
    public var value: ConfigValue
    public var messages: [LogLine]
    /// What the hook asked to be sent (`notify { … }`), in order; the host sends them.
    public var notifications: [NotificationRequest]

    public init(value: ConfigValue, messages: [LogLine] = [], notifications: [NotificationRequest] = []) {
        self.value = value
        self.messages = messages
        self.notifications = notifications
    }
}
