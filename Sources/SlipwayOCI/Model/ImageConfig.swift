/// The image configuration (OCI image-spec config.md; Docker's is the same shape).
public struct ImageConfig: Sendable, Hashable, Codable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    public var config: ContainerConfig?
    public var rootfs: RootFS
    public var history: [History]?

    public init(platform: Platform, config: ContainerConfig? = ContainerConfig(), diffIDs: [Digest] = [], history: [History]? = nil) {
        architecture = platform.architecture
        os = platform.os
        variant = platform.variant
        self.config = config
        rootfs = RootFS(diffIDs: diffIDs)
        self.history = history
    }

    public var platform: Platform { Platform(architecture: architecture, os: os, variant: variant) }

    /// What a container of this image runs with.
    public struct ContainerConfig: Sendable, Hashable, Codable {
        public var user: String?
        public var exposedPorts: [String: Empty]?
        public var env: [String]?
        public var entrypoint: [String]?
        public var cmd: [String]?
        public var volumes: [String: Empty]?
        public var workingDir: String?
        public var labels: [String: String]?
        public var stopSignal: String?
        public var shell: [String]?
        public var healthcheck: Healthcheck?
        public var onBuild: [String]?

        enum CodingKeys: String, CodingKey {
            case user = "User", exposedPorts = "ExposedPorts", env = "Env", entrypoint = "Entrypoint", cmd = "Cmd"
            case volumes = "Volumes", workingDir = "WorkingDir", labels = "Labels", stopSignal = "StopSignal"
            case shell = "Shell", healthcheck = "Healthcheck", onBuild = "OnBuild"
        }

        public init() {}
    }

    /// `{}` in `ExposedPorts` and `Volumes`.
    public struct Empty: Sendable, Hashable, Codable {
        public init() {}
    }

    public struct Healthcheck: Sendable, Hashable, Codable {
        public var test: [String]?
        public var interval: Int64?
        public var timeout: Int64?
        public var startPeriod: Int64?
        /// How often to probe during the start period (Docker 25+).
        public var startInterval: Int64?
        public var retries: Int?

        enum CodingKeys: String, CodingKey {
            case test = "Test", interval = "Interval", timeout = "Timeout", startPeriod = "StartPeriod", startInterval = "StartInterval"
            case retries = "Retries"
        }

        public init() {}
    }

    public struct RootFS: Sendable, Hashable, Codable {
        public var type: String = "layers"
        public var diffIDs: [Digest]

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }

        public init(diffIDs: [Digest]) { self.diffIDs = diffIDs }
    }

    public struct History: Sendable, Hashable, Codable {
        public var created: String?
        public var createdBy: String?
        public var author: String?
        public var comment: String?
        public var emptyLayer: Bool?

        enum CodingKeys: String, CodingKey {
            case created, author, comment
            case createdBy = "created_by"
            case emptyLayer = "empty_layer"
        }

        public init(created: String? = nil, createdBy: String? = nil, comment: String? = nil, emptyLayer: Bool? = nil) {
            self.created = created
            self.createdBy = createdBy
            self.comment = comment
            self.emptyLayer = emptyLayer
        }
    }
}
