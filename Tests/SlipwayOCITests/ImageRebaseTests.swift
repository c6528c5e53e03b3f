import Foundation
import SlipwayKernel
import SlipwayOCI
import Testing

/// Rebasing as a pure function of manifests and configs: what is kept, what comes from the new
/// base, and each case that is refused before anything is written.
struct ImageRebaseTests {
    static let amd64 = Platform(architecture: "amd64", os: "linux")

    /// An image whose layers are named by `names` (digest and diffID derived from each name).
    static func image(
        _ name: String, layers names: [String], history: [ImageConfig.History], config container: ImageConfig.ContainerConfig,
        platform: Platform = amd64, annotations: [String: String]? = nil
    ) throws -> ImageRebase.Image {
        let layers = names.map { Descriptor(mediaType: MediaType.ociLayerGzip, digest: .sha256(of: Data("gz-\($0)".utf8)), size: 10) }
        var config = ImageConfig(platform: platform, config: container, diffIDs: names.map { .sha256(of: Data("tar-\($0)".utf8)) }, history: history)
        config.created = "2026-01-01T00:00:00Z"
        let data = try CanonicalJSON.encode(config)
        let manifest = ImageManifest(
            config: Descriptor(mediaType: MediaType.ociConfig, digest: .sha256(of: data), size: Int64(data.count)), layers: layers, annotations: annotations)
        return ImageRebase.Image(name: name, digest: .sha256(of: try CanonicalJSON.encode(manifest)), manifest: manifest, config: data)
    }

    static func container(env: [String], cmd: [String]? = nil, labels: [String: String]? = nil, workdir: String? = nil) -> ImageConfig.ContainerConfig {
        var config = ImageConfig.ContainerConfig()
        config.env = env
        config.cmd = cmd
        config.labels = labels
        config.workingDir = workdir
        return config
    }

    static let oldBase = try! image(
        "os/base:1", layers: ["os1"], history: [.init(createdBy: "COPY rootfs/ /")],
        config: container(env: ["PATH=/bin", "LANG=C"], cmd: ["/bin/sh"], labels: ["vendor": "os", "version": "1"]))
    static let newBase = try! image(
        "os/base:1", layers: ["os2a", "os2b"], history: [.init(createdBy: "COPY rootfs/ /"), .init(createdBy: "COPY extra/ /")],
        config: container(env: ["PATH=/usr/bin:/bin", "LANG=C.UTF-8", "TZ=UTC"], cmd: ["/bin/bash"], labels: ["vendor": "os", "version": "2"]))

    static func app(layers: [String] = ["os1", "app"], history: [ImageConfig.History]? = nil, cmd: [String]? = ["/app/run"]) throws -> ImageRebase.Image {
        try image(
            "team/app:1", layers: layers,
            history: history ?? [.init(createdBy: "COPY rootfs/ /"), .init(createdBy: "ENV APP=1", emptyLayer: true), .init(createdBy: "COPY app /app")],
            config: container(env: ["PATH=/bin", "LANG=C", "APP=1"], cmd: cmd, labels: ["vendor": "os", "version": "1", "team": "web"], workdir: "/app"),
            annotations: [Annotation.baseName: "os/base:1", Annotation.baseDigest: oldBase.digest.description])
    }

    static func origins(_ image: ImageRebase.Image, _ kinds: [LayerOrigin.Kind]) -> ImageRebase.Proof {
        .origins(zip(image.manifest.layers, kinds).map { LayerOrigin(kind: $1, digest: $0.digest.description) })
    }

    @Test func theImagesOwnChangesStayOverTheNewBasesDefaults() throws {
        let app = try Self.app()
        let result = try ImageRebase.rebase(app, from: Self.oldBase, onto: Self.newBase, newBaseName: "os/base:1", proof: Self.origins(app, [.base, .copy]))
        #expect(result.manifest.layers.map(\.digest) == Self.newBase.manifest.layers.map(\.digest) + [app.manifest.layers[1].digest])
        #expect(result.baseLayers == 2 && result.keptLayers == 1)
        #expect(result.manifest.annotations?[Annotation.baseDigest] == Self.newBase.digest.description)
        #expect(result.configDescriptor.digest == .sha256(of: result.config))
        #expect(result.manifestDescriptor.digest == .sha256(of: result.manifestData))

        let config = try JSONDecoder().decode(ImageConfig.self, from: result.config)
        let newDiffIDs = try JSONDecoder().decode(ImageConfig.self, from: Self.newBase.config).rootfs.diffIDs
        let appDiffIDs = try JSONDecoder().decode(ImageConfig.self, from: app.config).rootfs.diffIDs
        #expect(config.rootfs.diffIDs == newDiffIDs + [appDiffIDs[1]])
        // Inherited values follow the new base; what the image set stays.
        #expect(config.config?.env == ["PATH=/usr/bin:/bin", "LANG=C.UTF-8", "TZ=UTC", "APP=1"])
        #expect(config.config?.cmd == ["/app/run"])
        #expect(config.config?.workingDir == "/app")
        #expect(config.config?.labels == ["vendor": "os", "version": "2", "team": "web"])
        #expect(config.history?.map(\.createdBy) == ["COPY rootfs/ /", "COPY extra/ /", "ENV APP=1", "COPY app /app"])
        #expect(config.created == "2026-01-01T00:00:00Z")

        // A CMD the image inherited follows the new base too.
        let inherited = try Self.app(cmd: ["/bin/sh"])
        let moved = try ImageRebase.rebase(inherited, from: Self.oldBase, onto: Self.newBase, newBaseName: "os/base:1", proof: .history)
        #expect(try JSONDecoder().decode(ImageConfig.self, from: moved.config).config?.cmd == ["/bin/bash"])
    }

    @Test func fieldsSlipwayDoesNotModelAreKept() throws {
        let app = try Self.app()
        var object = try #require(try JSONSerialization.jsonObject(with: app.config) as? [String: Any])
        object["docker_version"] = "27.0.1"
        var container = try #require(object["config"] as? [String: Any])
        container["ArgsEscaped"] = true
        object["config"] = container
        let edited = ImageRebase.Image(
            name: app.name, digest: app.digest, manifest: app.manifest, config: try JSONSerialization.data(withJSONObject: object))
        let result = try ImageRebase.rebase(edited, from: Self.oldBase, onto: Self.newBase, newBaseName: "os/base:1", proof: .history)
        let written = try #require(try JSONSerialization.jsonObject(with: result.config) as? [String: Any])
        #expect(written["docker_version"] as? String == "27.0.1")
        #expect((written["config"] as? [String: Any])?["ArgsEscaped"] as? Bool == true)
    }

    @Test func unsafeImagesAreRefusedWithTheirReason() throws {
        func refusal(_ image: ImageRebase.Image, proof: ImageRebase.Proof, onto newBase: ImageRebase.Image = Self.newBase) -> String {
            do {
                _ = try ImageRebase.rebase(image, from: Self.oldBase, onto: newBase, newBaseName: "os/base:1", proof: proof)
                return "rebased"
            } catch {
                return "\(error)"
            }
        }
        let app = try Self.app()
        #expect(refusal(app, proof: Self.origins(app, [.base, .run])).contains("layer 1 above the base came from 'COPY app /app'"))

        let ran = try Self.app(history: [.init(createdBy: "COPY rootfs/ /"), .init(createdBy: "/bin/sh -c apt-get install -y curl")])
        #expect(refusal(ran, proof: .history).contains("layer 1 above the base came from '/bin/sh -c apt-get install -y curl'"))
        let buildkit = try Self.app(history: [.init(createdBy: "COPY rootfs/ /"), .init(createdBy: "RUN /bin/sh -c make # buildkit")])
        #expect(refusal(buildkit, proof: .history).contains("came from 'RUN /bin/sh -c make # buildkit'"))

        let elsewhere = try Self.app(layers: ["other", "app"])
        #expect(refusal(elsewhere, proof: .history).contains("its layer 0 is not the old base's"))

        let chown = try Self.app(history: [.init(createdBy: "COPY rootfs/ /"), .init(createdBy: "COPY --chown=app:app app /app")])
        #expect(refusal(chown, proof: .history).contains("whose owner 'app' was looked up in the old base's /etc/passwd"))
        let numeric = try Self.app(history: [.init(createdBy: "COPY rootfs/ /"), .init(createdBy: "/bin/sh -c #(nop) COPY --chown=1000:1000 file:ab in /app")])
        #expect(refusal(numeric, proof: .history) == "rebased")

        let unaligned = try Self.app(history: [.init(createdBy: "COPY rootfs/ /")])
        #expect(refusal(unaligned, proof: .history).contains("its history does not account for the 1 layer(s) above the base"))
        #expect(refusal(app, proof: .origins([])).contains("does not describe its layers"))

        let arm = try Self.image("os/base:1", layers: ["arm"], history: [], config: Self.container(env: []), platform: Platform(architecture: "arm64", os: "linux"))
        #expect(refusal(app, proof: .history, onto: arm).contains("the new base os/base:1 is linux/arm64, the image linux/amd64"))
    }
}
