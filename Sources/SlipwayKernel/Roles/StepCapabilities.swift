/// A step that uses the `env = { ... }` option: the engine hands it over in
/// ``StepContext/environment``. The options are the engine's, but only the plugin knows whether
/// it has anything to give an environment to (a container, a command), so it says so by
/// conforming. A step that does not conform refuses `env` before the run starts, with the
/// recipe's file and line: an option is honoured or refused, never dropped.
public protocol EnvironmentConsumer: StepRunner {}

/// A step that can run detached (`detach = true`): started, left running while the steps after
/// it run, and stopped when the run ends. Only steps that start something long-lived (a `cmd`
/// container as a service) can; any other refuses `detach` before the run starts.
///
/// The step reads ``StepContext/detach``; when it is set, the step starts its work, registers
/// how to stop it with ``StepContext/resources`` (``RunResources/onRelease(_:_:)``) and returns.
public protocol DetachableStep: StepRunner {}

/// A step whose configuration names other plugins (the `build` step's `builder`). Before the
/// run, the validator hands it the registry so it can refuse a kind that is missing, plays
/// another role, or cannot honour the rest of the configuration, with the recipe's file and
/// line; at run time the step finds the same kinds through ``HostServices/plugins``.
public protocol PluginReferencing: StepRunner {
    /// - Throws: ``ConfigurationError`` naming the key that refers to the plugin.
    func checkReferences(in registry: PluginRegistry) throws
}
