import Foundation
import Logging
public import SlipwayKernel
public import SlipwayOCI

/// `build { context = ".", file = "Dockerfile", tags = { "reg/app:1" }, build_args = { K = "v" } }`:
/// builds with the native builder into Slipway's store. Dependents read `digest` and `tags`;
/// a `push { }` step sends the result to registries.
public struct BuildStep: PluginKind, StepRunner {
    public struct Configuration: Decodable, Sendable {
        /// A local directory, relative to where `slipway run` is started.
        public var context: String
        public var file: String?
        public var tags: [String]?
        public var buildArgs: [String: String]?
        public var target: String?
        public var platform: String?
        public var compression: LayerCompression?
        public var inputs: [StepID]?
    }

    public static let kind = "build"
    public static let summary = "build a Dockerfile with the native builder (no RUN yet)"
    private let configuration: Configuration
    private let tags: [String]
    private let platform: Platform

    public init(configuration: Configuration) throws {
        self.configuration = configuration
        do {
            tags = try (configuration.tags ?? []).map { try ImageReference(parsing: $0).description }
            platform = try configuration.platform.map(Platform.init(parsing:)) ?? .host
        } catch {
            throw ConfigurationError(path: [], message: "\(error)")
        }
    }

    public func run(in context: StepContext) async throws -> StepOutput {
        let store = try ContentStore.openDefault()
        let request = BuildRequest(
            context: URL(fileURLWithPath: configuration.context), dockerfile: configuration.file ?? "Dockerfile",
            buildArgs: configuration.buildArgs ?? [:], target: configuration.target, platform: platform, tags: tags,
            epoch: ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { Int64($0) } ?? 0,
            compression: configuration.compression ?? .gzip)
        let result = try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(request)
        context.logger.info("built \(result.manifest.digest) (\(result.report.layers.count) layers)")
        var fields: [String: ConfigValue] = [
            "digest": .string(result.manifest.digest.description),
            "tags": .array(tags.map { .string($0) }),
        ]
        if let base = result.report.runtimeBase {
            fields["base"] = .object(["reference": .string(base.reference), "digest": .string(base.digest)])
        }
        return StepOutput(fields)
    }
}
