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
    /// Secrets `RUN --mount=type=secret,id=…` can mount, by id. They are never written into a
    /// layer, history entry, cache key or record, and their text is masked in log lines.
    public var secrets: [String: Data] = [:]
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
    /// Where layers are uploaded while they are written; nil: not at all.
    public var streamLayers: LayerStreaming?
    /// Resolve every base against its registry even when the store has its tag.
    public var pullBases = false
    /// How much the base images may unpack to (per layer, per image) and what must stay free.
    public var unpackLimits = UnpackLimits()
    /// The system-call filter of RUN containers: Docker's default policy, or nil when the
    /// operator turned it off (`--security-opt seccomp=unconfined`; insecure).
    public var seccomp: SeccompProfile? = .buildDefault
    /// Labels set on the image (`slipway build --label K=V`), over those of the Dockerfile.
    public var labels: [String: String] = [:]
    /// Named contexts (`--build-context NAME=…`), by name.
    public var namedContexts: [String: NamedContext] = [:]
    /// Receives the output of RUN steps, line by line.
    public var log: (@Sendable (String) -> Void)?
    /// Receives the progress of long work (writing a layer): a label, the bytes done and the
    /// total when known.
    public var progress: (@Sendable (_ label: String, _ completed: Int64, _ total: Int64?) -> Void)?

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

    /// What a layer writer tells as it goes, as ``progress`` entries named after the line
    /// (`layer Dockerfile:4 COPY`); nil when nobody listens.
    func layerProgress(for instruction: Instruction) -> (@Sendable (Int64, Int64) -> Void)? {
        guard let progress else { return nil }
        let label = "layer \(instruction.location) \(instruction.name)"
        return { written, total in progress(label, written, total) }
    }

    /// BuildKit's automatic platform ARGs: usable in FROM at once, and in a stage after
    /// `ARG NAME` (without a value). The build runs on the host, so BUILD* is the host's.
    var platformArgs: [String: String] {
        let build = Platform.host
        return [
            "TARGETPLATFORM": platform.description, "TARGETOS": platform.os, "TARGETARCH": platform.architecture,
            "TARGETVARIANT": platform.variant ?? "",
            "BUILDPLATFORM": build.description, "BUILDOS": build.os, "BUILDARCH": build.architecture, "BUILDVARIANT": build.variant ?? "",
        ]
    }

    /// The layer time clamp (DESIGN §5): `SOURCE_DATE_EPOCH` when the host sets one, else the
    /// time of the Git commit the context came from, else 0. Reproducible by default.
    public static func epoch(for context: MaterializedContext, sourceDateEpoch: Int64?) -> Int64 {
        sourceDateEpoch ?? context.facts["commit_time"].flatMap { Int64($0) } ?? 0
    }

    /// `SOURCE_DATE_EPOCH` from an environment (the CLI passes its own), when it is a number.
    public static func sourceDateEpoch(in environment: [String: String]) -> Int64? {
        environment["SOURCE_DATE_EPOCH"].flatMap { Int64($0) }
    }

    /// - Throws: ``DockerfileError`` naming the file (and line, for syntax errors).
    func parseDockerfile() throws -> Dockerfile {
        let location = try dockerfileLocation()
        guard let data = FileManager.default.contents(atPath: location.path) else {
            throw DockerfileError(location: SourceLocation(file: dockerfile, line: 0), message: "cannot read the Dockerfile '\(dockerfile)' (no such file in the context)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw DockerfileError(location: SourceLocation(file: dockerfile, line: Self.firstInvalidLine(data)), message: "the Dockerfile is not UTF-8 text")
        }
        return try Dockerfile.parse(text, file: dockerfile)
    }

    /// The Dockerfile's host path: an absolute `-f` path as the operator gave it; a relative one
    /// found inside the context, symlinks resolved within it (a context's `Dockerfile ->
    /// /etc/shadow` names the context's own `etc/shadow`).
    func dockerfileLocation() throws -> URL {
        if dockerfile.hasPrefix("/") { return URL(fileURLWithPath: dockerfile) }
        do {
            return try DirectoryTree(root: context).url(resolving: dockerfile)
        } catch let error as RootedPathError {
            throw DockerfileError(location: SourceLocation(file: dockerfile, line: 0), message: "cannot read the Dockerfile", cause: error)
        }
    }

    /// The `.dockerignore` rules of the build, read inside the context like the Dockerfile.
    func ignoreRules() throws -> DockerIgnore {
        let tree = DirectoryTree(root: context)
        return try DockerIgnore.load(dockerfile: dockerfile) { path in
            let url: URL?
            if path.hasPrefix("/") {
                url = URL(fileURLWithPath: path)
            } else {
                do {
                    url = try tree.regularFile(path)
                } catch let error as RootedPathError {
                    throw DockerfileError(location: SourceLocation(file: path, line: 0), message: "cannot read the ignore file", cause: error)
                }
            }
            guard let url, let data = FileManager.default.contents(atPath: url.path) else { return nil }
            guard let text = String(validating: data, as: UTF8.self) else {
                throw DockerfileError(location: SourceLocation(file: path, line: Self.firstInvalidLine(data)), message: "the ignore file is not UTF-8 text")
            }
            return text
        }
    }

    /// The line (from 1) holding the first byte sequence that is not UTF-8.
    static func firstInvalidLine(_ data: Data) -> Int {
        var line = 1
        for chunk in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if String(validating: chunk, as: UTF8.self) == nil { return line }
            line += 1
        }
        return line
    }
}
