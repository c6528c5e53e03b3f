public import Foundation
public import SlipwayOCI
public import SlipwayRuntime
import SlipwayDockerfile
public import SlipwayKernel

/// What to build: a context directory, a Dockerfile, arguments, a target stage and platform.
public struct BuildRequest: Sendable {
    public var context: URL
    /// The Dockerfile; relative paths are relative to the context.
    public var dockerfile: String
    public var buildArgs: [String: String]
    /// Build arguments whose values are masked (`***`) in every log line and error of the build.
    /// They reach ARG expansion and RUN like any other; an image keeps one only if the
    /// Dockerfile copies it into ENV, a LABEL or a file.
    public var secretBuildArgs: [String: String] = [:]
    public var target: String?
    public var platform: Platform
    /// Names to give the result in the store (full references).
    public var tags: [String]
    /// Modification times in layers are clamped to this (reproducible builds).
    public var epoch: Int64
    public var compression: LayerCompression
    /// The network RUN steps get (the host's by default, so package downloads work).
    public var network: NetworkMode = .host
    /// Build every layer anew instead of reusing what earlier builds made.
    public var noCache = false
    /// Receives the output of RUN steps, line by line.
    public var log: (@Sendable (String) -> Void)?

    public init(
        context: URL, dockerfile: String = "Dockerfile", buildArgs: [String: String] = [:], target: String? = nil,
        platform: Platform = .host, tags: [String] = [], epoch: Int64 = 0, compression: LayerCompression = .gzip
    ) {
        self.context = context
        self.dockerfile = dockerfile
        self.buildArgs = buildArgs
        self.target = target
        self.platform = platform
        self.tags = tags
        self.epoch = epoch
        self.compression = compression
    }

    /// The layer time clamp (DESIGN §5): `SOURCE_DATE_EPOCH` when set, else the time of the Git
    /// commit the context came from, else 0. Reproducible by default.
    public static func epoch(for context: MaterializedContext) -> Int64 {
        ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { Int64($0) } ?? context.facts["commit_time"].flatMap { Int64($0) } ?? 0
    }

    /// - Throws: ``DockerfileError`` naming the file (and line, for syntax errors).
    func parseDockerfile() throws -> Dockerfile {
        guard let text = try? String(contentsOf: dockerfileURL, encoding: .utf8) else {
            throw DockerfileError(location: SourceLocation(file: dockerfile, line: 0), message: "cannot read the Dockerfile at \(dockerfileURL.path)")
        }
        return try Dockerfile.parse(text, file: dockerfile)
    }

    var dockerfileURL: URL {
        dockerfile.hasPrefix("/") ? URL(fileURLWithPath: dockerfile) : context.appendingPathComponent(dockerfile)
    }
}
