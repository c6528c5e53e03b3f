import DockerfileBuilder
import Foundation
import SlipwayKernel
import SlipwayOCI
import SlipwayTesting
import Testing

/// The buildah builder: bases resolved and recorded by Slipway and handed to buildah from the
/// store, the result imported with the same base annotations, secrets kept out of the output.
@Suite(.serialized)
struct BuildahBuilderTests {
    @Test func buildsOnTheRecordedBaseAndImportsTheResult() async throws {
        try Prerequisites.require(["buildah"])
        let store = try Scratch.store("buildah-builder")
        let base = try await NativeDockerfileBuilder(store: store, registry: RegistryClient())
            .build(BuildRequest(context: try BusyboxImage.context(), tags: ["localhost/busybox:test"]))
        let context = try Scratch.files([
            "Dockerfile": """
                ARG BASE=localhost/busybox:test
                FROM ${BASE} AS build
                ARG TOKEN
                RUN echo "built with $TOKEN" > /built.txt && test -n "$TOKEN"
                FROM ${BASE}
                COPY --from=build /built.txt /app/built.txt
                COPY hello.txt /app/
                CMD ["cat", "/app/built.txt"]
                """,
            "hello.txt": "hello\n",
        ], label: "buildah-context")
        var request = BuildRequest(context: context, tags: ["localhost/app:buildah"])
        request.secretBuildArgs = ["TOKEN": "buildah-s3cret"]
        let lines = LineCollector()
        request.log = lines.add
        let result = try await BuildahDockerfileBuilder(store: store, registry: RegistryClient()).build(request)

        #expect(result.report.runtimeBase == BaseImage(reference: "localhost/busybox:test", digest: base.manifest.digest.description))
        #expect(result.report.buildTimeBases.map(\.digest) == [base.manifest.digest.description])
        #expect(try store.resolve("localhost/app:buildah")?.digest == result.manifest.digest)
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: store.data(result.manifest.digest))
        #expect(manifest.annotations?[Annotation.baseDigest] == base.manifest.digest.description)
        // Origins come from the build: the base's own layers, then buildah's one squashed layer,
        // made by COPYs only in the final stage (the RUN is another stage's).
        let baseLayers = try store.manifest(base.manifest.digest).layers.count
        #expect(result.report.layers.map(\.kind) == Array(repeating: .base, count: baseLayers) + [.copy])
        let withRun = try Scratch.files(["Dockerfile": "FROM localhost/busybox:test\nCOPY hello.txt /\nRUN true\n", "hello.txt": "hi\n"], label: "buildah-run")
        let ran = try await BuildahDockerfileBuilder(store: store, registry: RegistryClient()).build(BuildRequest(context: withRun))
        #expect(ran.report.layers.map(\.kind) == Array(repeating: .base, count: baseLayers) + [.run])

        let root = Scratch.location("buildah-rootfs")
        for layer in manifest.layers { try LayerExtractor(limits: .init(allowDevices: true)).extract(store.blobURL(layer.digest), into: root) }
        #expect(try String(contentsOf: root.appendingPathComponent("app/built.txt"), encoding: .utf8) == "built with buildah-s3cret\n")
        #expect(!lines.all.joined(separator: "\n").contains("buildah-s3cret"))
        #expect(lines.all.contains { $0.contains("STEP") })
    }

    @Test func aFailingRunNamesBuildahsError() async throws {
        try Prerequisites.require(["buildah"])
        let store = try Scratch.store("buildah-builder")
        _ = try await NativeDockerfileBuilder(store: store, registry: RegistryClient())
            .build(BuildRequest(context: try BusyboxImage.context(), tags: ["localhost/busybox:test"]))
        let context = try Scratch.files(["Dockerfile": "FROM localhost/busybox:test\nRUN exit 3\n"], label: "buildah-fail")
        let error = await #expect(throws: BuildahFailure.self) {
            try await BuildahDockerfileBuilder(store: store, registry: RegistryClient()).build(BuildRequest(context: context))
        }
        #expect(error?.description.contains("exit status 3") == true, "\(error?.description ?? "")")
    }
}
