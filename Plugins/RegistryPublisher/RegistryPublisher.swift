public import Foundation
import Logging
public import SlipwayKernel
public import SlipwayOCI

/// Publishes an image from the host's content store to registry tags: blobs the registry has
/// (or can mount from another repository) are not sent again, and the manifest goes last with
/// the media type it was stored with.
public struct RegistryPublisher: Publisher {
    public let destinations: [ImageReference]

    public init(destinations: [ImageReference]) { self.destinations = destinations }

    public func publish(digest: String, in context: StepContext) async throws -> PublishResult {
        let store = try context.contentStore()
        let client = try context.registryClient()
        let descriptor = try ImageToPublish.descriptor(digest, in: store, for: context)
        var published: [String: String] = [:]
        let base = Self.baseReference(of: descriptor, in: store)
        var pushed: [ImageReference] = []
        for destination in destinations {
            // Blobs are mounted, not sent again, from repositories on the same registry that
            // have them: the base's, and the destinations pushed before this one.
            let mountFrom = ([base].compactMap { $0 } + pushed).filter { $0.registry == destination.registry }.map(\.repository)
            let report = try await client.push(descriptor, from: store, to: destination, mountFrom: mountFrom)
            pushed.append(destination)
            context.logger.info("pushed \(destination): uploaded \(report.uploaded), mounted \(report.mounted), already there \(report.skipped)")
            published[destination.description] = descriptor.digest.description
        }
        return PublishResult(destinations: published)
    }

    /// The base an image names in its manifest annotations (the builder records it there).
    static func baseReference(of descriptor: Descriptor, in store: ContentStore) -> ImageReference? {
        guard MediaType.isManifest(descriptor.mediaType), let manifest = try? store.manifest(descriptor.digest),
            let name = manifest.annotations?[Annotation.baseName]
        else { return nil }
        return try? ImageReference(parsing: name)
    }
}

/// Publishes an image into an OCI image layout folder (`oci:/path/layout:tag`), which skopeo,
/// umoci and buildah read: the blobs are copied (verified) and the tag written in its index.
public struct OCILayoutPublisher: Publisher {
    public let folder: URL
    public let tag: String

    /// - Parameter destination: `oci:PATH:TAG` (or `oci:PATH`, tag `latest`).
    public init(destination: String) throws {
        let body = destination.dropFirst("oci:".count)
        guard destination.hasPrefix("oci:"), !body.isEmpty else {
            throw ConfigurationError(path: [], message: "'\(destination)': expected oci:/path/to/layout[:tag]")
        }
        let parts = body.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard !parts[0].isEmpty, parts.count == 1 || !parts[1].isEmpty else {
            throw ConfigurationError(path: [], message: "'\(destination)': expected oci:/path/to/layout[:tag]")
        }
        folder = URL(fileURLWithPath: parts[0])
        tag = parts.count == 2 ? parts[1] : "latest"
    }

    public func publish(digest: String, in context: StepContext) async throws -> PublishResult {
        let store = try context.contentStore()
        let descriptor = try ImageToPublish.descriptor(digest, in: store, for: context)
        let (folder, tag) = (self.folder, self.tag)
        // Copying and verifying blobs is long, blocking work: off the cooperative pool.
        let copied = try await BlockingWork.run {
            let layout = try ContentStore(root: folder)
            let copied = try layout.importTree(descriptor, from: store)
            try layout.tag(tag, descriptor)
            return copied
        }
        context.logger.info("wrote oci:\(folder.path):\(tag): \(copied) blob(s) copied")
        return PublishResult(destinations: ["oci:\(folder.path):\(tag)": descriptor.digest.description])
    }
}

/// The stored image a publisher sends: its descriptor, with the media type the manifest declares.
enum ImageToPublish {
    static func descriptor(_ digestText: String, in store: ContentStore, for context: StepContext) throws -> Descriptor {
        guard let digest = try? Digest(parsing: digestText), let size = store.size(of: digest) else {
            throw StepFailure(step: context.stepID, message: "no image \(digestText) in the store to publish")
        }
        let mediaType = (try? store.manifest(digest).mediaType) ?? nil
        return Descriptor(mediaType: mediaType ?? MediaType.ociManifest, digest: digest, size: size)
    }
}
