public import Foundation
public import SlipwayKernel

/// Moves one platform's image from its old base to a new one without running anything: the
/// old base's layers are swapped for the new base's, the layers above are reused as they are,
/// and a new config and manifest are written. Safe only when nothing above the base depends on
/// what the old base contained, which is what ``rebase(_:from:onto:newBaseName:proof:)`` checks
/// before it writes anything.
public enum ImageRebase {
    /// One platform's image as a registry or store holds it.
    public struct Image: Sendable {
        /// For messages: the reference it was read by.
        public var name: String
        public var digest: Digest
        public var manifest: ImageManifest
        public var config: Data

        public init(name: String, digest: Digest, manifest: ImageManifest, config: Data) {
            self.name = name
            self.digest = digest
            self.manifest = manifest
            self.config = config
        }
    }

    /// What shows that the layers above the base came from COPY, ADD or metadata only.
    public enum Proof: Sendable {
        /// Slipway's record of each layer's origin, bottom first (a `BuildReport`'s layers).
        case origins([LayerOrigin])
        /// The config's history: all an image built elsewhere has, trusted only when the
        /// operator says so (`force = true`), since any builder may write anything there.
        case history
    }

    public struct Result: Sendable {
        public var manifest: ImageManifest
        public var manifestData: Data
        public var manifestDescriptor: Descriptor
        public var config: Data
        public var configDescriptor: Descriptor
        /// How many layers came from the new base, and how many of the image's were kept.
        public var baseLayers: Int
        public var keptLayers: Int
        /// Each layer's origin in the result, bottom first: what makes it rebasable again.
        public var origins: [LayerOrigin]
    }

    /// - Throws: ``RebaseRefusal`` naming the layer or platform and why, before anything is
    ///   written; ``OCIError`` for content that is not JSON.
    public static func rebase(_ image: Image, from oldBase: Image, onto newBase: Image, newBaseName: String, proof: Proof) throws -> Result {
        let imageConfig = try CanonicalJSON.decode(ImageConfig.self, from: image.config, what: "config of \(image.name)")
        let oldConfig = try CanonicalJSON.decode(ImageConfig.self, from: oldBase.config, what: "config of \(oldBase.name)")
        let newConfig = try CanonicalJSON.decode(ImageConfig.self, from: newBase.config, what: "config of \(newBase.name)")
        func refuse(_ reason: RebaseRefusal.Reason) -> RebaseRefusal { RebaseRefusal(image: image.name, reason) }
        for (what, config, manifest) in [(image.name, imageConfig, image.manifest), (oldBase.name, oldConfig, oldBase.manifest), (newBase.name, newConfig, newBase.manifest)]
        where config.rootfs.diffIDs.count != manifest.layers.count {
            throw refuse(.inconsistent("\(what) lists \(manifest.layers.count) layers but \(config.rootfs.diffIDs.count) diffIDs"))
        }
        guard newConfig.platform == imageConfig.platform else {
            throw refuse(.platformMissing("the new base \(newBase.name) is \(newConfig.platform), the image \(imageConfig.platform)"))
        }

        // The lowest layers must be exactly the old base's.
        let baseCount = oldBase.manifest.layers.count
        guard image.manifest.layers.count >= baseCount else {
            throw refuse(.lowerLayersDiffer(layer: image.manifest.layers.count, detail: "the image has \(image.manifest.layers.count) layers, the old base \(baseCount)"))
        }
        for index in 0..<baseCount {
            let (mine, theirs) = (image.manifest.layers[index].digest, oldBase.manifest.layers[index].digest)
            guard mine == theirs else { throw refuse(.lowerLayersDiffer(layer: index, detail: "digest \(mine.short), the old base's is \(theirs.short)")) }
            let (diffID, baseDiffID) = (imageConfig.rootfs.diffIDs[index], oldConfig.rootfs.diffIDs[index])
            guard diffID == baseDiffID else { throw refuse(.lowerLayersDiffer(layer: index, detail: "diffID \(diffID.short), the old base's is \(baseDiffID.short)")) }
        }

        // Everything above came from COPY, ADD or metadata.
        let baseHistory = oldConfig.history?.count ?? 0
        let above = Array((imageConfig.history ?? []).dropFirst(baseHistory).filter { $0.emptyLayer != true })
        let aligned = above.count == image.manifest.layers.count - baseCount
        switch proof {
        case .origins(let origins):
            guard origins.count == image.manifest.layers.count,
                zip(origins, image.manifest.layers).allSatisfy({ $0.digest == $1.digest.description })
            else {
                throw refuse(.unproven("the build record of \(image.digest.short) does not describe its layers"))
            }
            for index in baseCount..<origins.count {
                switch origins[index].kind {
                case .copy, .add, .meta: continue
                case .run: throw refuse(.layerRan(layer: index, detail: aligned ? "'\(above[index - baseCount].createdBy ?? "RUN")'" : "a RUN instruction"))
                case .base:
                    throw refuse(.lowerLayersDiffer(layer: index, detail: "its build record says it belongs to its base, which had more layers than \(oldBase.name)"))
                }
            }
        case .history:
            guard aligned else {
                throw refuse(.unproven("its history does not account for the \(image.manifest.layers.count - baseCount) layer(s) above the base"))
            }
            for (offset, entry) in above.enumerated() where !HistoryOrigin.isCopy(entry.createdBy) {
                throw refuse(.layerRan(layer: baseCount + offset, detail: "'\(entry.createdBy ?? "an unrecorded step")'"))
            }
        }
        let keptOrigins: [LayerOrigin]
        switch proof {
        case .origins(let origins): keptOrigins = Array(origins.dropFirst(baseCount))
        case .history: keptOrigins = image.manifest.layers.dropFirst(baseCount).map { LayerOrigin(kind: .copy, digest: $0.digest.description) }
        }
        // A COPY --chown by name looked the name up in the old base's /etc/passwd.
        if aligned {
            for (offset, entry) in above.enumerated() {
                if let name = HistoryOrigin.chownName(entry.createdBy) {
                    throw refuse(.layerRan(layer: baseCount + offset, detail: "'\(entry.createdBy ?? "")', whose owner '\(name)' was looked up in the old base's /etc/passwd"))
                }
            }
        }

        // The new config: the image's own JSON (fields Slipway does not model are kept), the new
        // base's layers and history under the image's, and the container defaults merged.
        var config = try object(image.config, what: image.name)
        let old = try object(oldBase.config, what: oldBase.name)
        let new = try object(newBase.config, what: newBase.name)
        let kept = Array(imageConfig.rootfs.diffIDs.dropFirst(baseCount))
        config["rootfs"] = ["type": "layers", "diff_ids": (newConfig.rootfs.diffIDs + kept).map(\.description)]
        let history = (new["history"] as? [Any] ?? []) + (config["history"] as? [Any] ?? []).dropFirst(baseHistory)
        config["history"] = history.isEmpty ? nil : history
        let merged = ConfigMerge.merge(oldBase: old["config"] as? [String: Any] ?? [:], image: config["config"] as? [String: Any] ?? [:], newBase: new["config"] as? [String: Any] ?? [:])
        config["config"] = merged
        let configData = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .withoutEscapingSlashes])
        let configDescriptor = Descriptor(mediaType: image.manifest.config.mediaType, digest: .sha256(of: configData), size: Int64(configData.count))

        var manifest = image.manifest
        manifest.config = configDescriptor
        manifest.layers = newBase.manifest.layers + image.manifest.layers.dropFirst(baseCount)
        manifest = manifest.converted(toDocker: image.manifest.mediaType == MediaType.dockerManifest)
        manifest.mediaType = image.manifest.mediaType
        manifest.config.mediaType = image.manifest.config.mediaType
        var annotations = image.manifest.annotations ?? [:]
        annotations[Annotation.baseName] = newBaseName
        annotations[Annotation.baseDigest] = newBase.digest.description
        manifest.annotations = annotations
        let manifestData = try CanonicalJSON.encode(manifest)
        let mediaType = image.manifest.mediaType ?? MediaType.ociManifest
        return Result(
            manifest: manifest, manifestData: manifestData,
            manifestDescriptor: Descriptor(mediaType: mediaType, digest: .sha256(of: manifestData), size: Int64(manifestData.count)),
            config: configData, configDescriptor: configDescriptor, baseLayers: newBase.manifest.layers.count, keptLayers: kept.count,
            origins: newBase.manifest.layers.map { LayerOrigin(kind: .base, digest: $0.digest.description) } + keptOrigins)
    }

    private static func object(_ data: Data, what: String) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw OCIError.invalidContent("the config of \(what) is not a JSON object")
        }
        return object
    }
}
