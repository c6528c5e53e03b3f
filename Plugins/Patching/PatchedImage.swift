import Foundation
import SlipwayKernel
import SlipwayOCI

/// The host platform's image of a reference, pulled into the store, and how one more layer is
/// appended to it (the config's own JSON kept, so fields Slipway does not model survive).
struct PatchedImage: Sendable {
    var name: String
    var digest: Digest
    var manifest: ImageManifest
    var mediaType: String
    var config: Data
    var diffIDs: [Digest]

    /// Layers with their diffIDs, bottom first (for the layer cache).
    var stack: [(layer: Descriptor, diffID: Digest)] { Array(zip(manifest.layers, diffIDs)) }

    static func pull(_ reference: ImageReference, store: ContentStore, client: RegistryClient, step: StepID) async throws -> PatchedImage {
        // From an index, pull takes the host's manifest (and says so when there is none).
        let descriptor: Descriptor
        do {
            descriptor = try await client.pull(reference, platform: .host, into: store).descriptor
        } catch {
            throw StepFailure(step: step, message: "cannot pull \(reference): \(error)")
        }
        let manifest = try store.manifest(descriptor.digest, what: reference.description)
        let config = try store.data(manifest.config.digest)
        let parsed = try CanonicalJSON.decode(ImageConfig.self, from: config, what: "config of \(reference)")
        guard parsed.rootfs.diffIDs.count == manifest.layers.count else {
            throw StepFailure(step: step, message: "\(reference) lists \(manifest.layers.count) layers but \(parsed.rootfs.diffIDs.count) diffIDs")
        }
        return PatchedImage(
            name: reference.description, digest: descriptor.digest, manifest: manifest, mediaType: descriptor.mediaType, config: config,
            diffIDs: parsed.rootfs.diffIDs)
    }

    /// This image with `layer` on top and a history entry saying what made it; written to the
    /// store. - Returns: the new manifest's descriptor.
    func appending(layer: LayerWriter.Written, history: String, store: ContentStore) throws -> Descriptor {
        guard var object = try JSONSerialization.jsonObject(with: config) as? [String: Any] else {
            throw OCIError.invalidContent("the config of \(name) is not a JSON object")
        }
        var rootfs = object["rootfs"] as? [String: Any] ?? ["type": "layers"]
        rootfs["diff_ids"] = (diffIDs + [layer.diffID]).map(\.description)
        object["rootfs"] = rootfs
        let now = Date().formatted(.iso8601)
        object["history"] = (object["history"] as? [Any] ?? []) + [["created": now, "created_by": history, "comment": "slipway patch"]]
        object["created"] = now
        let configData = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        let configDigest = try store.write(configData)
        var manifest = self.manifest
        manifest.config = Descriptor(mediaType: manifest.config.mediaType, digest: configDigest, size: Int64(configData.count))
        var added = layer.descriptor
        if mediaType == MediaType.dockerManifest, added.mediaType == MediaType.ociLayerGzip { added.mediaType = MediaType.dockerLayerGzip }
        manifest.layers.append(added)
        let data = try CanonicalJSON.encode(manifest)
        let digest = try store.write(data)
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
    }
}

extension PatchStep.TagPolicy {
    /// `TAG-patched`, or the next `TAG-N` the repository does not have yet.
    func tag(for image: ImageReference, client: RegistryClient) async throws -> ImageReference {
        let base = image.tag ?? "latest"
        switch self {
        case .patched:
            return image.with(tag: base.hasSuffix("-patched") ? base : base + "-patched")
        case .increment:
            let existing = try await client.tags(image)
            let next = existing.compactMap { tag -> Int? in
                guard tag.hasPrefix(base + "-") else { return nil }
                return Int(tag.dropFirst(base.count + 1))
            }.max().map { $0 + 1 } ?? 1
            return image.with(tag: "\(base)-\(next)")
        }
    }
}
