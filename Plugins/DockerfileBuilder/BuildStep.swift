import Foundation
import Logging
public import SlipwayKernel
public import SlipwayOCI
import BuildContexts
public import SlipwayRuntime

/// `build { context = ".", file = "Dockerfile", tags = { "reg/app:1" }, build_args = { K = "v" } }`:
/// builds a Dockerfile into the host's content store. The context is a folder, a Git locator
/// (`https://host/repo.git#main:app`, or `git { … }`) or an http(s) tarball URL. Dependents read
/// `digest`, `media_type`, `tags`, `base`, `context` (the commit, branch, subdir a Git context
/// reported) and `report` (the whole `BuildReport`); a `push { }` step sends the result to
/// registries. `slipway build` is this step (and a push) run by the engine.
public struct BuildStep: PluginKind, StepRunner, PluginReferencing {
    public struct Configuration: Decodable, Sendable {
        /// A folder (relative to where `slipway run` is started), a Git locator or a tarball URL.
        public var context: String
        public var file: String?
        public var tags: [String]?
        public var buildArgs: [String: String]?
        /// Build arguments whose values are the run secrets of the same names (declared in the
        /// step's `secrets`); masked in every line, never on a command line.
        public var secretBuildArgs: [String]?
        /// `RUN --mount=type=secret,id=ID`: the id → the run secret (declared in `secrets`) that
        /// holds its value.
        public var secretMounts: [String: String]?
        /// `RUN --mount=type=secret,id=ID` read from files: the id → the file's path.
        public var secretFiles: [String: String]?
        /// Named contexts: NAME → a folder, a Git or tarball locator, or `docker-image://REF`.
        public var buildContexts: [String: String]?
        /// Labels set on the image, over the Dockerfile's.
        public var labels: [String: String]?
        public var target: String?
        public var platform: String?
        public var compression: LayerCompression?
        /// `host` (default) or `none`: the network RUN instructions get.
        public var network: NetworkMode?
        public var noCache: Bool?
        /// Upload each layer to the first tag's repository while it is written, so that a push
        /// that follows finds it there (`slipway build` does this unless --no-push). Uploads
        /// that fail are left to the push. Needs `tags`.
        public var streamLayers: Bool?
        /// Ask each base's registry even when the store has the tag (`docker build --pull`);
        /// default: only under `slipway serve`.
        public var pull: Bool?
        /// The builder kind: `native` (default), `buildah`, or any Dockerfile builder registered.
        public var builder: String?
        /// The most one layer of a base may unpack to (`16GiB` by default), all of an image
        /// (`64GiB`), and the space unpacking must leave free (`1GiB`).
        public var maxLayerSize: String?
        public var maxImageSize: String?
        public var minFreeSpace: String?
        /// `default` (Docker's system-call filter for RUN) or `unconfined` (insecure: no filter).
        public var seccomp: String?
        public var inputs: [StepID]?
    }

    public static let kind = "build"
    public static let summary = "build a Dockerfile (with the builder kind named, native by default) from a folder, Git or a tarball"
    private let configuration: Configuration
    private let tags: [String]
    private let platform: Platform
    private let location: ContextLocation
    private let limits: UnpackLimits
    private let seccomp: SeccompProfile?

    public init(configuration: Configuration) throws {
        self.configuration = configuration
        do {
            location = try ContextLocation(parsing: configuration.context)
        } catch {
            throw ConfigurationError(path: [.key("context")], message: "\(error)")
        }
        do {
            tags = try (configuration.tags ?? []).map { try ImageReference(parsing: $0).description }
            if configuration.streamLayers == true && tags.isEmpty {
                throw ConfigurationError(path: [.key("stream_layers")], message: "needs tags: layers are uploaded to the first tag's repository")
            }
            platform = try configuration.platform.map(Platform.init(parsing:)) ?? .host
        } catch {
            throw ConfigurationError(path: [], message: "\(error)")
        }
        for (name, value) in configuration.buildContexts ?? [:] {
            do {
                if let reference = NamedContext.imageReference(in: value) {
                    _ = try ImageReference(parsing: reference)
                } else if let refusal = NamedContext.refusal(of: value) {
                    throw ConfigurationError(path: [], message: refusal)
                } else {
                    _ = try ContextLocation(parsing: value)
                }
            } catch let error as ConfigurationError {
                throw ConfigurationError(path: [.key("build_contexts"), .key(name)], message: error.message)
            } catch {
                throw ConfigurationError(path: [.key("build_contexts"), .key(name)], message: "\(error)")
            }
        }
        var limits = UnpackLimits()
        for (key, text, apply) in [
            ("max_layer_size", configuration.maxLayerSize, { (limits: inout UnpackLimits, bytes: Int64) in limits.maxLayerBytes = bytes }),
            ("max_image_size", configuration.maxImageSize, { (limits: inout UnpackLimits, bytes: Int64) in limits.maxImageBytes = bytes }),
            ("min_free_space", configuration.minFreeSpace, { (limits: inout UnpackLimits, bytes: Int64) in limits.freeSpaceReserve = bytes }),
        ] {
            guard let text else { continue }
            guard let bytes = ByteCountText.parse(text) else {
                throw ConfigurationError(path: [.key(key)], message: "'\(text)': expected a size such as 512MiB or 2GiB")
            }
            apply(&limits, bytes)
        }
        self.limits = limits
        switch configuration.seccomp ?? "default" {
        case "default": seccomp = .buildDefault
        case "unconfined": seccomp = nil
        case let other: throw ConfigurationError(path: [.key("seccomp")], message: "'\(other)': expected default or unconfined")
        }
    }

    /// The builder kind must be a Dockerfile builder the host knows, and one that honours every
    /// key this step sets (buildah unpacks and runs by itself, so it refuses the limits).
    public func checkReferences(in registry: PluginRegistry) throws {
        let builder = try self.builder(in: registry)
        let given: [(String, Bool)] = [
            ("max_layer_size", configuration.maxLayerSize != nil), ("max_image_size", configuration.maxImageSize != nil),
            ("min_free_space", configuration.minFreeSpace != nil), ("seccomp", configuration.seccomp != nil),
            ("build_contexts", !(configuration.buildContexts ?? [:]).isEmpty), ("stream_layers", configuration.streamLayers == true),
        ]
        for (key, isGiven) in given where isGiven && builder.unsupportedKeys.contains(key) {
            throw ConfigurationError(path: [.key(key)], message: "the \(builderKind) builder cannot honour it (the native builder can)")
        }
    }

    private var builderKind: String { configuration.builder ?? NativeBuilder.kind }

    private func builder(in registry: PluginRegistry) throws -> any DockerfileBuilding {
        let kinds = registry.kinds(for: .builder).joined(separator: ", ")
        guard let entry = registry.entry(builderKind) else {
            throw ConfigurationError(path: [.key("builder")], message: "\(PluginError.unknownKind(builderKind)) (builders: \(kinds))")
        }
        guard entry.role == .builder,
              let builder = try registry.instantiate(builderKind, configuration: .object([:]), path: [.key("builder")]) as? any DockerfileBuilding
        else {
            throw ConfigurationError(path: [.key("builder")], message: "'\(builderKind)' is not a Dockerfile builder (builders: \(kinds))")
        }
        return builder
    }

    public func run(in context: StepContext) async throws -> StepOutput {
        let scratch = URL(fileURLWithPath: context.workDirectory).appendingPathComponent("contexts/\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        switch location {
        case .local, .workspace: break
        case .git, .tarball: context.logger.info("fetching context \(location)")
        }
        let workspace = URL(fileURLWithPath: context.workDirectory).appendingPathComponent("workspace")
        let materialized = try await location.materialize(scratch: scratch, workspace: workspace)
        var request = BuildRequest(
            context: URL(fileURLWithPath: materialized.directory), dockerfile: configuration.file ?? "Dockerfile",
            buildArgs: configuration.buildArgs ?? [:], target: configuration.target, platform: platform, tags: tags,
            epoch: BuildRequest.epoch(for: materialized, sourceDateEpoch: context.services.sourceDateEpoch),
            compression: configuration.compression ?? .gzip)
        request.network = configuration.network ?? .host
        request.noCache = configuration.noCache ?? false
        if configuration.streamLayers == true { request.streamLayers = try tags.first.map { LayerStreaming(to: try ImageReference(parsing: $0)) } }
        request.pullBases = configuration.pull ?? (context.services.basePolicy == .alwaysResolve)
        request.labels = configuration.labels ?? [:]
        request.unpackLimits = limits
        request.seccomp = seccomp
        for name in configuration.secretBuildArgs ?? [] { request.secretBuildArgs[name] = try context.secret(name) }
        for (id, name) in configuration.secretMounts ?? [:] { request.secrets[id] = Data(try context.secret(name).utf8) }
        for (id, path) in configuration.secretFiles ?? [:] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw StepFailure(step: context.stepID, message: "secret \(id): cannot read \(path)")
            }
            request.secrets[id] = data
        }
        request.namedContexts = try await namedContexts(scratch: scratch, in: context)
        let logger = context.logger
        request.log = { line in logger.info("\(line)") }
        let (sink, step) = (context.progress, context.stepID)
        request.progress = { label, completed, total in sink.report(StepProgress(step: step, label: label, completed: completed, total: total)) }
        guard let plugins = context.services.plugins else {
            throw MissingServiceError(service: "plugin registry", step: context.stepID)
        }
        let report = try await builder(in: plugins).build(request, in: context)
        context.logger.info("built \(report.digest) (\(report.layers.count) layers)")
        var fields: [String: ConfigValue] = [
            "digest": .string(report.digest),
            "media_type": .string(report.mediaType),
            "platform": .string(platform.description),
            "tags": .array(tags.map { .string($0) }),
            "context": .object(materialized.facts.mapValues { .string($0) }),
            // The whole report (runtime and build-time bases, each layer's origin): what
            // base-image triggers and rebasing read, and what the run record keeps.
            "report": try ConfigValue(encoding: report),
        ]
        if let base = report.runtimeBase {
            fields["base"] = .object(["reference": .string(base.reference), "digest": .string(base.digest)])
        }
        return StepOutput(fields)
    }

    /// `build_contexts`: `docker-image://REF` names an image; anything else is a context
    /// locator, fetched into the step's scratch space like the main context.
    private func namedContexts(scratch: URL, in context: StepContext) async throws -> [String: NamedContext] {
        var contexts: [String: NamedContext] = [:]
        for (name, value) in (configuration.buildContexts ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let reference = NamedContext.imageReference(in: value) {
                contexts[name] = .image(reference)
                continue
            }
            let location = try ContextLocation(parsing: value)
            if case .local = location {} else { context.logger.info("fetching context \(name)=\(location)") }
            let materialized = try await location.materialize(
                scratch: scratch.appendingPathComponent("named-\(contexts.count)"),
                workspace: URL(fileURLWithPath: context.workDirectory).appendingPathComponent("workspace"))
            contexts[name] = .folder(URL(fileURLWithPath: materialized.directory))
        }
        return contexts
    }
}
