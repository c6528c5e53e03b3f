/// What the host gives plugins to work with beyond their configuration: the content store, the
/// registry client, the build epoch, and whatever later modules add. Passed in every
/// ``StepContext``; a plugin never opens a store, makes a client or reads the process
/// environment itself, so a test or a server decides what each run uses.
///
/// The kernel knows none of these types (it does no I/O), so a service is named by a key type
/// its own module defines, and that module adds a typed accessor:
///
///     public enum ContentStoreService: HostServiceKey { public typealias Value = ContentStore }
///     extension HostServices { public var contentStore: ContentStore? { … } }
public struct HostServices: Sendable {
    private var values: [ObjectIdentifier: any Sendable] = [:]

    public init() {}

    public subscript<Key: HostServiceKey>(_ key: Key.Type) -> Key.Value? {
        get { values[ObjectIdentifier(key)] as? Key.Value }
        set { values[ObjectIdentifier(key)] = newValue }
    }
}

/// Names one service in ``HostServices`` and says its type.
public protocol HostServiceKey {
    associatedtype Value: Sendable
}

/// A service a step needs and the host did not give (an embedding program's mistake).
public struct MissingServiceError: CategorizedError, Sendable, CustomStringConvertible {
    public var service: String
    public var step: StepID

    public init(service: String, step: StepID) {
        self.service = service
        self.step = step
    }

    public var category: ErrorCategory { .internal }
    public var description: String { "step '\(step)' needs the host's \(service), and the host gave none" }
}

/// The plugins the run's host knows: how a step finds the kinds its configuration names (a
/// builder). The engine provides it for every run.
public enum PluginRegistryService: HostServiceKey {
    public typealias Value = PluginRegistry
}

extension HostServices {
    public var plugins: PluginRegistry? {
        get { self[PluginRegistryService.self] }
        set { self[PluginRegistryService.self] = newValue }
    }
}
