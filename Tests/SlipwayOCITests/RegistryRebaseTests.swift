import Foundation
import SlipwayKernel
import SlipwayOCI
import SlipwayTesting
import Testing

/// Rebasing a multi-platform image in the real registry: each platform onto the new base's
/// manifest for it, no layer bytes sent, and a platform the new base lacks refused.
@Suite(.serialized)
struct RegistryRebaseTests {
    static let amd64 = Platform(architecture: "amd64", os: "linux")
    static let arm64 = Platform(architecture: "arm64", os: "linux", variant: "v8")

    /// An index of one-file base images, one per platform, with `content` in each.
    static func baseIndex(_ content: String, platforms: [Platform], in store: ContentStore) throws -> (Descriptor, [Platform: OCITestImages.Written]) {
        var entries: [Descriptor] = []
        var images: [Platform: OCITestImages.Written] = [:]
        for platform in platforms {
            let image = try OCITestImages.write(into: store, files: ["etc/base": "\(content) \(platform)"], platform: platform)
            var entry = image.manifest
            entry.platform = platform
            entries.append(entry)
            images[platform] = image
        }
        return (try store.write(json: ImageIndex(manifests: entries), mediaType: MediaType.ociIndex), images)
    }

    /// An app index built on `base` (per platform: the base's layer and one COPY layer).
    static func appIndex(on base: [Platform: OCITestImages.Written], baseName: String, in store: ContentStore) throws -> Descriptor {
        var entries: [Descriptor] = []
        for platform in [amd64, arm64] {
            let baseImage = try #require(base[platform])
            let tar = try OCITestImages.tarball(["app/run": "app for \(platform)"])
            let layerDigest = try store.write(tar)
            let layer = Descriptor(mediaType: MediaType.ociLayer, digest: layerDigest, size: Int64(tar.count))
            var container = ImageConfig.ContainerConfig()
            container.cmd = ["/app/run"]
            let config = try store.write(
                json: ImageConfig(
                    platform: platform, config: container, diffIDs: [baseImage.layers[0].digest, layerDigest],
                    history: [ImageConfig.History(createdBy: "COPY app /app")]),
                mediaType: MediaType.ociConfig)
            var manifest = try store.write(
                json: ImageManifest(
                    config: config, layers: [baseImage.layers[0], layer],
                    annotations: [Annotation.baseName: baseName, Annotation.baseDigest: baseImage.manifest.digest.description]),
                mediaType: MediaType.ociManifest)
            manifest.platform = platform
            entries.append(manifest)
        }
        return try store.write(json: ImageIndex(manifests: entries), mediaType: MediaType.ociIndex)
    }

    @Test func eachPlatformMovesOntoTheNewBasesManifestForIt() async throws {
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let store = try Scratch.store("rebase-index")
        let client = RegistryClient()
        let base = try ImageReference(parsing: "\(registry.address)/os/base:1")
        let app = try ImageReference(parsing: "\(registry.address)/team/app:1")
        let (oldIndex, oldImages) = try Self.baseIndex("v1", platforms: [Self.amd64, Self.arm64], in: store)
        _ = try await client.push(oldIndex, from: store, to: base)
        _ = try await client.push(try Self.appIndex(on: oldImages, baseName: base.description, in: store), from: store, to: app)

        // A new base without arm64: refused, nothing written.
        let (partial, _) = try Self.baseIndex("v2", platforms: [Self.amd64], in: store)
        _ = try await client.push(partial, from: store, to: base)
        let target = try ImageReference(parsing: "\(registry.address)/team/app:2")
        let rebase = RegistryRebase(client: client, store: try Scratch.store("rebase-work"))
        await #expect {
            _ = try await rebase.rebase(app, onto: base, oldBase: nil, targets: [target]) { _, _ in .history }
        } throws: { error in
            "\(error)".contains("the new base \(base) has no linux/arm64/v8 manifest")
        }
        #expect(try await client.headManifest(target) == nil)

        let (newIndex, newImages) = try Self.baseIndex("v2", platforms: [Self.amd64, Self.arm64], in: store)
        _ = try await client.push(newIndex, from: store, to: base)
        let report = try await rebase.rebase(app, onto: base, oldBase: nil, targets: [target]) { _, _ in .history }
        #expect(report.platforms == ["linux/amd64", "linux/arm64/v8"])
        #expect(report.layerBytesUploaded == 0 && report.uploadedBlobs == 2, "only the two configs are uploaded")
        #expect(report.mountedBlobs == 2, "each platform's new base layer is mounted from the base's repository")

        let pushed = try await client.manifest(target)
        #expect(pushed.digest == report.descriptor?.digest)
        let index = try JSONDecoder().decode(ImageIndex.self, from: pushed.data)
        #expect(index.manifests.map(\.platform) == [Self.amd64, Self.arm64])
        for entry in index.manifests {
            let platform = try #require(entry.platform)
            let manifest = try JSONDecoder().decode(ImageManifest.self, from: try await client.manifest(target.with(digest: entry.digest)).data)
            #expect(manifest.layers.first?.digest == newImages[platform]?.layers[0].digest, "\(platform)")
            #expect(manifest.annotations?[Annotation.baseDigest] == newImages[platform]?.manifest.digest.description)
        }
    }
}
