/// Why a container could not run, or how it ended badly.
public enum RuntimeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A prerequisite is missing (root, runc, overlayfs).
    case unavailable(String)
    /// Preparing the root filesystem or the bundle failed.
    case setup(String)
    /// The user named in USER (or --chown) is not in the image.
    case unknownUser(String)
    /// The command could not be started (no such executable, not executable).
    case cannotStart(String)
    /// The runtime itself failed before the process ran.
    case runtime(String)

    public var description: String {
        switch self {
        case .unavailable(let message): "containers are unavailable: \(message)"
        case .setup(let message): "cannot prepare the container: \(message)"
        case .unknownUser(let message): message
        case .cannotStart(let message): "cannot start the command: \(message)"
        case .runtime(let message): "runc failed: \(message)"
        }
    }
}
