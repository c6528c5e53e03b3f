/// A plugin type: a kind name (what recipes call it, `log` or `git.commit`), a typed
/// configuration, and an initialiser that validates it. Building the instance is the
/// validation step; it runs before any step of a run executes.
///
/// A plugin also conforms to one role: ``StepRunner``, ``Trigger``, ``ContextSource``,
/// ``Builder`` or ``Publisher``. It never sees Lua: the recipe bridge decodes its
/// `Configuration` from the recipe table (snake_case keys, unknown keys rejected).
public protocol PluginKind: Sendable {
    associatedtype Configuration: Decodable & Sendable
    /// The name recipes use; dots make namespaces (`git.commit` is `git.commit { ... }`).
    static var kind: String { get }
    /// A one-line summary for `slipway plugins` and the recipe reference.
    static var summary: String { get }
    /// - Throws: ``ConfigurationError`` when the configuration is valid as data but not as intent.
    init(configuration: Configuration) throws
}

extension PluginKind {
    public static var summary: String { "" }
}
