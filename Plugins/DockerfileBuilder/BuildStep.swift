import Foundation
import Logging
public import SlipwayKernel
public import SlipwayOCI
import BuildContexts
public import SlipwayRuntime

/// `build { context = ".", file = "Dockerfile", tags = { "reg/app:1" }, build_args = { K = "v" } }`:
/// builds with the native builder into Slipway's store. The context is a folder, a Git locator
/// (`https://host/repo.git#main:app`) or an http(s) tarball URL. Dependents read `digest`,
/// `media_type`, `tags`, `base`, `context` (the commit, branch, subdir a Git context reported)
/// and `report` (the whole `BuildReport`); a `push { }` step sends the result to registries.
public struct BuildStep: PluginKind, StepRunner {
    public struct Configuration: Decodable, Sendable {
        /// A folder (relative to where `slipway run` is started), a Git locator or a tarball URL.
        public var context: String
        public var file: String?
        public var tags: [String]?
        public var buildArgs: [String: String]?
        /// Labels set on the image, over the Dockerfile's.
        public var labels: [String: String]?
        public var target: String?
        public var platform: String?
        public var compression: LayerCompression?
        /// `host` (default) or `none`: the network RUN instructions get.
        public var network: NetworkMode?
        public var noCache: Bool?
        /// `native` (default) or `buildah`.
        public var builder: BuilderChoice?
        public var inputs: [StepID]?
    }

    public static let kind = "build"
    public static let summary = "build a Dockerfile with the native builder (RUN in runc containers) from a folder, Git or a tarball"
    private let configuration: Configuration
    private let tags: [String]
    private let platform: Platform
    private let location: ContextLocation

    public init(configuration: Configuration) throws {
        self.configuration = configuration
        do {
            location = try ContextLocation(parsing: configuration.context)
        } catch {
            throw ConfigurationError(path: [.key("context")], message: "\(error)")
        }
        do {
            tags = try (configuration.tags ?? []).map { try ImageReference(parsing: $0).description }
            platform = try configuration.platform.map(Platform.init(parsing:)) ?? .host
        } catch {
            throw ConfigurationError(path: [], message: "\(error)")
        }
    }

    public func run(in context: StepContext) async throws -> StepOutput {
        let store = try context.contentStore()
        let scratch = URL(fileURLWithPath: context.workDirectory).appendingPathComponent("contexts/\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        if case .local = location {} else { context.logger.info("fetching context \(location)") }
        let materialized = try await location.materialize(scratch: scratch)
        var request = BuildRequest(
            context: URL(fileURLWithPath: materialized.directory), dockerfile: configuration.file ?? "Dockerfile",
            buildArgs: configuration.buildArgs ?? [:], target: configuration.target, platform: platform, tags: tags,
            epoch: BuildRequest.epoch(for: materialized, sourceDateEpoch: context.services.sourceDateEpoch),
            compression: configuration.compression ?? .gzip)
        request.network = configuration.network ?? .host
        request.noCache = configuration.noCache ?? false
        request.labels = configuration.labels ?? [:]
        let logger = context.logger
        request.log = { line in logger.info("\(line)") }
        let result = try await (configuration.builder ?? .native).build(request, store: store, registry: try context.registryClient())
        context.logger.info("built \(result.manifest.digest) (\(result.report.layers.count) layers)")
        var fields: [String: ConfigValue] = [
            "digest": .string(result.manifest.digest.description),
            "media_type": .string(result.manifest.mediaType),
            "tags": .array(tags.map { .string($0) }),
            "context": .object(materialized.facts.mapValues { .string($0) }),
            // The whole report (runtime and build-time bases, each layer's origin): what
            // base-image triggers and rebasing read, and what the run record keeps.
            "report": try ConfigValue(encoding: result.report),
        ]
        if let base = result.report.runtimeBase {
            fields["base"] = .object(["reference": .string(base.reference), "digest": .string(base.digest)])
        }
        return StepOutput(fields)
    }
}
