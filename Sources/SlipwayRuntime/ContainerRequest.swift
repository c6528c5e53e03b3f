public import Foundation

/// One process to run in a container over a stack of unpacked layers.
public struct ContainerRequest: Sendable {
    /// Unpacked layers in overlay form, bottom first (see ``LayerCache``).
    public var lowers: [URL]
    public var command: [String]
    /// `KEY=value` entries; PATH and HOME are added when missing.
    public var environment: [String]
    public var workingDirectory: String
    /// USER text (`name`, `uid:gid`, ...), resolved in the container's own /etc files.
    public var user: String
    public var network: NetworkMode
    public var hostname: String
    /// The system-call filter; Docker's default policy unless the operator turned it off.
    public var seccomp: SeccompProfile? = .buildDefault
    /// Mounted for this run only; what is written under them is not in the changes.
    public var mounts: [ContainerMount] = []
    /// A prepared network namespace to join (a run network's); when set, `network` is not used.
    public var attachment: NetworkAttachment?
    /// Every capability, no system-call filter, no masked paths, every device: Docker's
    /// `--privileged`, for `cmd` steps that ask for it (never for build steps).
    public var privileged = false
    /// The run the container belongs to, recorded in its bundle for the next start's clean-up.
    public var runID: String?
    /// Another image's layers, mounted read-write at a path of the container (an overlay of
    /// their own). When set, the container's changes are what was written there, and what the
    /// process wrote in its own root is dropped: how a tooling image's package manager patches
    /// an image that has none.
    public var target: Target?

    public struct Target: Sendable {
        /// Unpacked layers in overlay form, bottom first.
        public var lowers: [URL]
        /// Where they appear in the container (absolute).
        public var path: String

        public init(lowers: [URL], path: String) {
            self.lowers = lowers
            self.path = path
        }
    }

    public init(
        lowers: [URL], command: [String], environment: [String] = [], workingDirectory: String = "/", user: String = "",
        network: NetworkMode = .host, hostname: String = "slipway"
    ) {
        self.lowers = lowers
        self.command = command
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.user = user
        self.network = network
        self.hostname = hostname
    }
}

/// How a container ended, and what it changed.
public struct ContainerResult: Sendable {
    /// The process's exit status (128 + N when killed by signal N).
    public var status: Int32
    /// The container's changes in overlay form (whiteouts as 0/0 devices). The caller owns the
    /// folder: turn it into a layer and adopt it into the ``LayerCache``, or delete it.
    public var changes: URL
}

/// A line a container process wrote.
public struct ContainerOutput: Sendable, Hashable {
    public enum Stream: Sendable, Hashable { case stdout, stderr }
    public var stream: Stream
    public var text: String
}
