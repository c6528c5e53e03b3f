import Foundation
public import SlipwayKernel

/// Rebases an image in a registry: reads the image, its old base and the new base, checks and
/// writes each platform with ``ImageRebase``, and pushes the result to the targets. No layer is
/// sent: each is already there, or mounted from the repository it came from; only the new
/// config and manifests are uploaded (a blob is fetched and uploaded only when it lives on
/// another registry).
public struct RegistryRebase: Sendable {
    /// What one rebase did, for the step's outputs and the fan-out measurement.
    public struct Report: Sendable, Hashable {
        /// The manifest (or index) written, by digest.
        public var descriptor: Descriptor?
        public var platforms: [String] = []
        /// Per platform's image written: its manifest digest, the new base's manifest digest for
        /// its platform, and its layers' origins.
        public var images: [Written] = []
        /// Registry requests made (token requests aside).
        public var requests = 0
        public var mountedBlobs = 0
        public var presentBlobs = 0
        public var uploadedBlobs = 0
        /// Bytes of blobs uploaded (configs, and layers only when they came from elsewhere).
        public var uploadedBytes: Int64 = 0
        public var layerBytesUploaded: Int64 = 0
    }

    public struct Written: Sendable, Hashable {
        public var platform: String
        public var digest: Digest
        public var baseDigest: Digest
        public var origins: [LayerOrigin]
    }

    /// Which proof to check the layers above the base with, for one platform's image (its
    /// manifest digest and platform): the host's build record, or history when trusted.
    public typealias ProofSource = @Sendable (_ digest: Digest, _ platform: Platform) async throws -> ImageRebase.Proof

    let client: RegistryClient
    let store: ContentStore

    public init(client: RegistryClient, store: ContentStore) {
        self.client = client
        self.store = store
    }

    /// - Parameters:
    ///   - oldBase: the base the image was built on; nil: what its manifest's
    ///     `org.opencontainers.image.base.*` annotations name.
    ///   - targets: where the result goes (tags); the image's own tag rebases it in place.
    /// - Throws: ``RebaseRefusal`` when unsafe (nothing pushed), ``RegistryError``/``OCIError``.
    public func rebase(
        _ image: ImageReference, onto newBase: ImageReference, oldBase: ImageReference?, targets: [ImageReference], proof: ProofSource
    ) async throws -> Report {
        var report = Report()
        let top = try await client.manifest(image)
        let base = try await client.manifest(newBase)
        report.requests += 2
        var written: [(result: ImageRebase.Result, newBase: ImageReference, source: ImageReference)] = []
        let root: Descriptor
        var rootData: Data?
        if MediaType.isIndex(top.mediaType) {
            var index = try CanonicalJSON.decode(ImageIndex.self, from: top.data, what: "index \(image)")
            var children: [Descriptor] = []
            for entry in index.manifests {
                guard let platform = entry.platform, platform.os != "unknown" else {
                    throw RebaseRefusal(image: image.description, .platformMissing("its index has an entry without a platform (\(entry.digest.short), an attestation or artifact), which a rebase cannot carry over"))
                }
                let child = try await client.manifest(image.with(digest: entry.digest))
                report.requests += 1
                let (result, baseDigest) = try await rebase(child, of: image.with(digest: entry.digest), platform: platform, newBase: (newBase, base), oldBase: oldBase, proof: proof, report: &report)
                written.append((result, newBase.with(digest: baseDigest), image))
                report.images.append(Written(platform: platform.description, digest: result.manifestDescriptor.digest, baseDigest: baseDigest, origins: result.origins))
                var descriptor = result.manifestDescriptor
                descriptor.platform = entry.platform
                descriptor.annotations = entry.annotations
                children.append(descriptor)
                report.platforms.append(platform.description)
            }
            index.manifests = children
            let data = try CanonicalJSON.encode(index)
            rootData = data
            root = Descriptor(mediaType: top.mediaType, digest: .sha256(of: data), size: Int64(data.count))
        } else {
            let (result, baseDigest) = try await rebase(top, of: image, platform: nil, newBase: (newBase, base), oldBase: oldBase, proof: proof, report: &report)
            written.append((result, newBase.with(digest: baseDigest), image))
            root = result.manifestDescriptor
            let platform = try CanonicalJSON.decode(ImageConfig.self, from: result.config, what: "rebased config").platform.description
            report.platforms.append(platform)
            report.images.append(Written(platform: platform, digest: result.manifestDescriptor.digest, baseDigest: baseDigest, origins: result.origins))
        }

        for target in targets {
            for item in written {
                try await pushBlobs(item.result, newBase: item.newBase, image: item.source, to: target, report: &report)
                let reference = rootData == nil ? target : target.with(digest: item.result.manifestDescriptor.digest)
                try await client.putManifest(item.result.manifestData, mediaType: item.result.manifestDescriptor.mediaType, to: reference)
                report.requests += 1
            }
            if let rootData {
                try await client.putManifest(rootData, mediaType: root.mediaType, to: target)
                report.requests += 1
            }
        }
        report.descriptor = root
        return report
    }

    /// One platform's manifest rebased (not yet pushed); the new base resolved for its platform.
    private func rebase(
        _ fetched: RegistryClient.FetchedManifest, of reference: ImageReference, platform: Platform?,
        newBase: (reference: ImageReference, manifest: RegistryClient.FetchedManifest), oldBase: ImageReference?, proof: ProofSource,
        report: inout Report
    ) async throws -> (ImageRebase.Result, Digest) {
        guard MediaType.isManifest(fetched.mediaType) else { throw OCIError.unsupported("manifest media type \(fetched.mediaType) of \(reference)") }
        let manifest = try CanonicalJSON.decode(ImageManifest.self, from: fetched.data, what: "manifest \(reference)")
        let config = try await blob(manifest.config, of: reference, report: &report)
        let platform = try platform ?? CanonicalJSON.decode(ImageConfig.self, from: config, what: "config of \(reference)").platform
        let image = ImageRebase.Image(name: reference.description, digest: fetched.digest, manifest: manifest, config: config)

        let newImage = try await platformImage(newBase.manifest, of: newBase.reference, platform: platform, role: "the new base", for: reference, report: &report)
        let oldReference: ImageReference
        if let oldBase {
            oldReference = oldBase
        } else {
            guard let name = manifest.annotations?[Annotation.baseName], let digest = manifest.annotations?[Annotation.baseDigest],
                let named = try? ImageReference(parsing: name), let parsed = try? Digest(parsing: digest)
            else {
                throw RebaseRefusal(image: reference.description, .unproven("it does not say which base it was built on (no \(Annotation.baseName) and \(Annotation.baseDigest) annotations); give the old base"))
            }
            // Moving an image to another base is not a base update: it needs the old base named.
            let newName = newBase.reference
            guard named.registry == newName.registry, named.repository == newName.repository, named.tag == newName.tag else {
                throw RebaseRefusal(image: reference.description, .unproven("it was built on \(named), not \(newName); give the old base to move it to another base"))
            }
            oldReference = named.with(digest: parsed)
        }
        let oldTop = try await client.manifest(oldReference)
        report.requests += 1
        let oldImage = try await platformImage(oldTop, of: oldReference, platform: platform, role: "the old base", for: reference, report: &report)
        let result = try ImageRebase.rebase(image, from: oldImage, onto: newImage, newBaseName: newBase.reference.description, proof: try await proof(fetched.digest, platform))
        _ = try store.write(result.config, expected: result.configDescriptor.digest, source: "rebased config of \(reference)")
        return (result, newImage.digest)
    }

    /// The manifest and config for `platform` of what `fetched` is (an index or one manifest).
    private func platformImage(
        _ fetched: RegistryClient.FetchedManifest, of reference: ImageReference, platform: Platform, role: String, for image: ImageReference,
        report: inout Report
    ) async throws -> ImageRebase.Image {
        var manifestData = fetched
        if MediaType.isIndex(fetched.mediaType) {
            let index = try CanonicalJSON.decode(ImageIndex.self, from: fetched.data, what: "index \(reference)")
            guard let entry = index.manifest(for: platform) else {
                throw RebaseRefusal(image: image.description, .platformMissing("\(role) \(reference) has no \(platform) manifest"))
            }
            manifestData = try await client.manifest(reference.with(digest: entry.digest))
            report.requests += 1
        }
        let manifest = try CanonicalJSON.decode(ImageManifest.self, from: manifestData.data, what: "manifest \(reference)")
        let config = try await blob(manifest.config, of: reference, report: &report)
        return ImageRebase.Image(name: reference.description, digest: manifestData.digest, manifest: manifest, config: config)
    }

    /// A small blob (a config), verified against its digest.
    private func blob(_ descriptor: Descriptor, of reference: ImageReference, report: inout Report) async throws -> Data {
        if !store.contains(descriptor.digest) {
            try await client.fetchBlob(descriptor, from: reference, into: store)
            report.requests += 1
        }
        return try store.data(descriptor.digest)
    }

    /// Every blob of `result` into `target`: there already, mounted from where it came from, or
    /// (another registry) fetched and uploaded; the new config is uploaded.
    private func pushBlobs(_ result: ImageRebase.Result, newBase: ImageReference, image: ImageReference, to target: ImageReference, report: inout Report) async throws {
        let fromBase = Set(result.manifest.layers.prefix(result.baseLayers).map(\.digest))
        for layer in result.manifest.layers {
            report.requests += 1
            if try await client.blobSize(layer.digest, in: target) != nil {
                report.presentBlobs += 1
                continue
            }
            let source = fromBase.contains(layer.digest) ? newBase : image
            if source.registry == target.registry, source.repository != target.repository {
                report.requests += 1
                if try await client.mountBlob(layer.digest, from: source.repository, to: target) {
                    report.mountedBlobs += 1
                    continue
                }
            }
            if !store.contains(layer.digest) {
                try await client.fetchBlob(layer, from: source, into: store)
                report.requests += 1
            }
            try await upload(layer, to: target, report: &report)
            report.layerBytesUploaded += layer.size
        }
        // The config is new (or already there from another target): pushBlob's own HEAD decides.
        try await upload(result.manifest.config, to: target, report: &report)
    }

    /// A blob in the store to `target`, unless it is there (one HEAD, then POST and PUT).
    private func upload(_ blob: Descriptor, to target: ImageReference, report: inout Report) async throws {
        switch try await client.pushBlob(blob, from: store, to: target) {
        case .existed:
            report.requests += 1
            report.presentBlobs += 1
        case .mounted, .uploaded:
            report.requests += 3
            report.uploadedBlobs += 1
            report.uploadedBytes += blob.size
        }
    }
}
