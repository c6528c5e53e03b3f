import DockerfileBuilder
import RegistryPublisher
import Foundation
import SlipwayEngine
import SlipwayKernel
import SlipwayOCI
import SlipwayTesting
import Testing

/// The `build` step works with what the host gives it through its context (the content store,
/// the registry client, the build epoch), never with a store it opens itself.
struct BuildStepServiceTests {
    func pipeline(_ context: URL) -> PipelineDefinition {
        let step = StepDefinition(
            id: StepID("image"), kind: "build",
            configuration: .object(["context": .string(context.path), "tags": .array([.string("local/app:1")])]),
            location: SourceLocation(file: "services.lua", line: 3))
        return PipelineDefinition(name: "services", steps: [step], location: SourceLocation(file: "services.lua", line: 1))
    }

    @Test func theBuildStepUsesTheStoreAndEpochTheHostGives() async throws {
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "a"])
        var plugins = PluginRegistry()
        try plugins.register([BuildStep.self, NativeBuilder.self])
        let store = try Scratch.store()
        var services = HostServices()
        services.contentStore = store
        services.registryClient = RegistryClient()
        services.sourceDateEpoch = 1_700_000_000
        let report = try await PipelineRunner(registry: plugins, options: RunOptions(services: services)).run(pipeline(context), info: RunInfo(id: "r1"))
        #expect(report.status == .succeeded, "\(report.failure ?? "")")
        let digest = try #require(report.step(StepID("image"))?.output?.fields["digest"])
        let stored = try #require(try store.resolve(ImageReference(parsing: "local/app:1").description))
        #expect(digest == .string(stored.digest.description))
        #expect(try store.config(of: store.manifest(stored.digest)).created == "2023-11-14T22:13:20Z")
        // The whole build report reaches dependents (and the run record), in snake_case.
        let output = try #require(report.step(StepID("image"))?.output?.fields)
        #expect(output["media_type"] == .string(MediaType.ociManifest))
        let layers = try #require(output["report"]?["layers"])
        #expect(layers == .array([.object(["kind": .string("copy"), "digest": .string(try store.manifest(stored.digest).layers[0].digest.description)])]))
        #expect(output["report"]?["build_time_bases"] == .array([]))

        let bare = try await PipelineRunner(registry: plugins).run(pipeline(context), info: RunInfo(id: "r2"))
        #expect(bare.status == .failed)
        #expect(bare.step(StepID("image"))?.failure?.contains("step 'image' needs the host's content store, and the host gave none") == true)
    }

    /// push publishes to OCI layouts (`oci:PATH:TAG`) through the layout publisher, as it does
    /// to registries through the registry publisher; a malformed destination is refused.
    @Test func pushPublishesToAnOCILayout() async throws {
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "a"])
        var plugins = PluginRegistry()
        try plugins.register([BuildStep.self, NativeBuilder.self, PushStep.self])
        let layout = Scratch.location("published-layout")
        let location = SourceLocation(file: "services.lua", line: 1)
        let steps = pipeline(context).steps + [StepDefinition(
            id: StepID("publish"), kind: "push",
            configuration: .object(["inputs": .array([.step(StepID("image"))]), "tags": .array([.string("oci:\(layout.path):app")])]),
            dependencies: [StepID("image")], location: location)]
        var services = HostServices()
        services.contentStore = try Scratch.store()
        services.registryClient = RegistryClient()
        let report = try await PipelineRunner(registry: plugins, options: RunOptions(services: services))
            .run(PipelineDefinition(name: "publish", steps: steps, location: location), info: RunInfo(id: "r"))
        #expect(report.status == .succeeded, "\(report.failure ?? "")")
        let digest = report.step(StepID("image"))?.output?.fields["digest"]
        #expect(try ContentStore(root: layout).resolve("app").map { ConfigValue.string($0.digest.description) } == digest)
        #expect(report.step(StepID("publish"))?.output?.fields["pushed"] == .array([.string("oci:\(layout.path):app")]))

        let bad = StepDefinition(
            id: StepID("bad"), kind: "push", configuration: .object(["inputs": .array([.step(StepID("image"))]), "tags": .array([.string("oci:")])]),
            dependencies: [StepID("image")], location: SourceLocation(file: "services.lua", line: 9))
        let error = await #expect(throws: PipelineValidationError.self) {
            try await PipelineRunner(registry: plugins).run(PipelineDefinition(name: "bad", steps: pipeline(context).steps + [bad], location: location), info: RunInfo(id: "r2"))
        }
        #expect(error.map { "\($0)" }?.contains("services.lua:9") == true && error.map { "\($0)" }?.contains("tags[1]: 'oci:': expected oci:/path/to/layout[:tag]") == true, "\(error.map { "\($0)" } ?? "")")
    }

    /// The build step finds its builder by kind in the run's registry: a builder registered by
    /// an embedding program is used like the built-in ones, and a kind that is missing, plays
    /// another role or cannot honour the step's keys is refused before the run, with file:line.
    @Test func buildersAreFoundByKindInTheRegistry() async throws {
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "a"])
        var plugins = PluginRegistry()
        try plugins.register([BuildStep.self, NativeBuilder.self, LabellingBuilder.self, PushStep.self])
        let store = try Scratch.store()
        var services = HostServices()
        services.contentStore = store
        services.registryClient = RegistryClient()
        func build(_ extra: [String: ConfigValue]) -> PipelineDefinition {
            var definition = pipeline(context)
            guard case .object(var fields) = definition.steps[0].configuration else { return definition }
            fields.merge(extra) { _, new in new }
            definition.steps[0].configuration = .object(fields)
            return definition
        }
        let report = try await PipelineRunner(registry: plugins, options: RunOptions(services: services))
            .run(build(["builder": .string("labelling")]), info: RunInfo(id: "r1"))
        #expect(report.status == .succeeded, "\(report.failure ?? "")")
        let stored = try #require(try store.resolve(ImageReference(parsing: "local/app:1").description))
        #expect(try store.config(of: store.manifest(stored.digest)).config?.labels?["built-by"] == "labelling")

        for (extra, expected) in [
            (["builder": ConfigValue.string("kaniko")], "services.lua:3: step 'image': builder: unknown plugin kind 'kaniko' (builders: labelling, native)"),
            (["builder": .string("push")], "builder: 'push' is not a Dockerfile builder (builders: labelling, native)"),
            (["builder": .string("labelling"), "seccomp": .string("unconfined")], "seccomp: the labelling builder cannot honour it (the native builder can)"),
            (["stream_layers": .bool(true), "tags": .array([])], "stream_layers: needs tags: layers are uploaded to the first tag's repository"),
        ] {
            let error = await #expect(throws: PipelineValidationError.self) {
                try await PipelineRunner(registry: plugins).run(build(extra), info: RunInfo(id: "r2"))
            }
            #expect(error.map { "\($0)" }?.contains(expected) == true, "\(error.map { "\($0)" } ?? "")")
        }
    }
}

/// A Dockerfile builder an embedding program might add: the native one, with a label saying
/// who built the image, and no seccomp setting of its own.
private struct LabellingBuilder: PluginKind, DockerfileBuilding {
    static let kind = "labelling"
    init(configuration: NoBuilderConfiguration) {}
    var unsupportedKeys: Set<String> { ["seccomp"] }

    func build(_ request: BuildRequest, in context: StepContext) async throws -> BuildReport {
        var request = request
        request.labels["built-by"] = Self.kind
        return try await NativeBuilder(configuration: NoBuilderConfiguration()).build(request, in: context)
    }
}
