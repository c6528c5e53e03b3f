/// The plugins a process knows, by kind. Registration is static (a list of built-ins, plus
/// whatever an embedding program adds); registering a kind twice is a start-up error.
public struct PluginRegistry: Sendable {
    /// The role a kind plays, which decides where a recipe may use it.
    public enum Role: String, Sendable, Codable, CaseIterable {
        case step, trigger, contextSource = "context_source", builder, publisher
    }

    public struct Entry: Sendable {
        public let kind: String
        public let role: Role
        public let summary: String
        fileprivate let make: @Sendable (ConfigValue, [ConfigPathComponent]) throws -> any PluginKind
    }

    private var entries: [String: Entry] = [:]

    public init() {}

    /// - Throws: ``PluginError`` for a duplicate kind, a malformed kind name, or a type that
    ///   conforms to no role.
    public mutating func register<P: PluginKind>(_ type: P.Type) throws {
        let kind = P.kind
        guard Self.isValidKind(kind) else { throw PluginError.invalidKind(kind) }
        guard entries[kind] == nil else { throw PluginError.duplicateKind(kind) }
        let role: Role
        switch type {
        case is any StepRunner.Type: role = .step
        case is any Trigger.Type: role = .trigger
        case is any ContextSource.Type: role = .contextSource
        case is any Builder.Type: role = .builder
        case is any Publisher.Type: role = .publisher
        default: throw PluginError.noRole(kind)
        }
        entries[kind] = Entry(kind: kind, role: role, summary: P.summary) { value, path in
            let configuration = try ConfigValueDecoder().decode(P.Configuration.self, from: value, path: path)
            do {
                return try P(configuration: configuration)
            } catch let error as ConfigurationError {
                throw error.prefixed(by: path)
            }
        }
    }

    /// Registers every type in `types`, reporting the first problem.
    public mutating func register(_ types: [any PluginKind.Type]) throws {
        for type in types { try register(type) }
    }

    public func entry(_ kind: String) -> Entry? { entries[kind] }

    /// All entries, sorted by kind.
    public var all: [Entry] { entries.values.sorted { $0.kind < $1.kind } }

    public func kinds(for role: Role) -> [String] { all.filter { $0.role == role }.map(\.kind) }

    /// Builds a plugin instance from its configuration (validating it).
    /// - Parameter path: the configuration's key path in the recipe, for error messages.
    /// - Throws: ``PluginError/unknownKind(_:)`` or ``ConfigurationError``.
    public func instantiate(_ kind: String, configuration: ConfigValue, path: [ConfigPathComponent] = []) throws
        -> any PluginKind
    {
        guard let entry = entries[kind] else { throw PluginError.unknownKind(kind) }
        return try entry.make(configuration, path)
    }

    /// Builds the step runner for a step.
    public func stepRunner(for step: StepDefinition) throws -> any StepRunner {
        let plugin = try instantiate(step.kind, configuration: step.configuration)
        guard let runner = plugin as? any StepRunner else { throw PluginError.wrongRole(step.kind, expected: .step) }
        return runner
    }

    static func isValidKind(_ kind: String) -> Bool {
        let parts = kind.split(separator: ".", omittingEmptySubsequences: false)
        return !parts.isEmpty
            && parts.allSatisfy { part in
                guard let first = part.first, first.isLetter || first == "_" else { return false }
                return part.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
            }
    }
}
