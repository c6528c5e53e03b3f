import Foundation

extension RegistryClient {
    /// What a pull or push did, for reports and tests.
    public struct TransferReport: Sendable, Hashable {
        /// The manifest (or index) now at the destination.
        public var descriptor: Descriptor
        public var uploaded: Int = 0
        public var mounted: Int = 0
        public var skipped: Int = 0
        public var downloaded: Int = 0
    }

    /// Pulls `reference` into `store` and tags it there (by default with the reference's text).
    /// From an index, only the manifest for `platform` is pulled (and it is what the tag points at).
    public func pull(
        _ reference: ImageReference, platform: Platform = .host, into store: ContentStore, tag: String? = nil
    ) async throws -> TransferReport {
        var fetched = try await manifest(reference)
        if MediaType.isIndex(fetched.mediaType) {
            let index = try CanonicalJSON.decode(ImageIndex.self, from: fetched.data, what: "index \(reference)")
            guard let entry = index.manifest(for: platform) else {
                let available = index.manifests.compactMap { $0.platform?.description }.joined(separator: ", ")
                throw OCIError.notFound("platform \(platform) in \(reference) (available: \(available))")
            }
            fetched = try await manifest(reference.with(digest: entry.digest))
        }
        guard MediaType.isManifest(fetched.mediaType) else { throw OCIError.unsupported("manifest media type \(fetched.mediaType)") }
        let manifest = try CanonicalJSON.decode(ImageManifest.self, from: fetched.data, what: "manifest \(reference)")
        let blobs = [manifest.config] + manifest.layers
        let missing = blobs.filter { !store.contains($0.digest) }
        try await forEachConcurrently(missing) { blob in try await fetchBlob(blob, from: reference, into: store) }
        try store.write(fetched.data, expected: fetched.digest, source: reference.description)
        try store.tag(tag ?? reference.description, fetched.descriptor)
        return TransferReport(descriptor: fetched.descriptor, skipped: blobs.count - missing.count, downloaded: missing.count)
    }

    /// Pushes the image (or index) `descriptor` from `store` to `reference`: blobs first (in
    /// parallel; skipped when present, mounted from `mountFrom` when possible), then manifests.
    public func push(
        _ descriptor: Descriptor, from store: ContentStore, to reference: ImageReference, mountFrom: [String] = []
    ) async throws -> TransferReport {
        var report = TransferReport(descriptor: descriptor)
        // The tag already names this very image: a registry accepts a manifest only when it has
        // every blob, so there is nothing to send (one round trip instead of one per blob).
        if MediaType.isManifest(descriptor.mediaType), reference.digest == nil,
            let current = try? await headManifest(reference), current.digest == descriptor.digest
        {
            let manifest = try store.manifest(descriptor.digest)
            report.skipped = manifest.layers.count + 1
            return report
        }
        try await pushTree(descriptor, from: store, to: reference, mountFrom: mountFrom, report: &report, isRoot: true)
        return report
    }

    private func pushTree(
        _ descriptor: Descriptor, from store: ContentStore, to reference: ImageReference, mountFrom: [String],
        report: inout TransferReport, isRoot: Bool
    ) async throws {
        let data = try store.data(descriptor.digest)
        if MediaType.isIndex(descriptor.mediaType) {
            let index = try CanonicalJSON.decode(ImageIndex.self, from: data, what: "index \(descriptor.digest)")
            for child in index.manifests where store.contains(child.digest) {
                try await pushTree(child, from: store, to: reference, mountFrom: mountFrom, report: &report, isRoot: false)
            }
        } else if MediaType.isManifest(descriptor.mediaType) {
            let manifest = try CanonicalJSON.decode(ImageManifest.self, from: data, what: "manifest \(descriptor.digest)")
            let outcomes = try await mapConcurrently([manifest.config] + manifest.layers) { blob in
                try await pushBlob(blob, from: store, to: reference, mountFrom: mountFrom)
            }
            for outcome in outcomes {
                switch outcome {
                case .uploaded: report.uploaded += 1
                case .mounted: report.mounted += 1
                case .existed: report.skipped += 1
                }
            }
        } else {
            throw OCIError.unsupported("pushing media type \(descriptor.mediaType)")
        }
        let target = isRoot && reference.digest == nil ? reference : reference.with(digest: descriptor.digest)
        try await putManifest(data, mediaType: descriptor.mediaType, to: target)
    }

    /// Runs `body` for each item, at most `parallelTransfers` at once.
    func forEachConcurrently<T: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) async throws -> Void) async throws {
        _ = try await mapConcurrently(items) { try await body($0) }
    }

    func mapConcurrently<T: Sendable, R: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
        try await withThrowingTaskGroup(of: (Int, R).self) { group in
            var results = [R?](repeating: nil, count: items.count)
            var next = 0
            func launch() {
                let index = next
                let item = items[index]
                group.addTask { (index, try await body(item)) }
                next += 1
            }
            while next < min(items.count, configuration.parallelTransfers) { launch() }
            while let (index, result) = try await group.next() {
                results[index] = result
                if next < items.count { launch() }
            }
            return results.map { $0! }
        }
    }
}
