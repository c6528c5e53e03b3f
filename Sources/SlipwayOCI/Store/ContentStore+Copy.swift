import Foundation

extension ContentStore {
    /// Copies everything `descriptor` reaches from `source` into this store (skipping blobs it
    /// has), verifying each blob as it is written.
    /// - Returns: how many blobs were copied.
    @discardableResult
    public func importTree(_ descriptor: Descriptor, from source: ContentStore) throws -> Int {
        var copied = 0
        var pending = [descriptor]
        var seen = Set<Digest>()
        while let next = pending.popLast() {
            guard seen.insert(next.digest).inserted else { continue }
            if MediaType.isIndex(next.mediaType) {
                pending += try CanonicalJSON.decode(ImageIndex.self, from: source.data(next.digest), what: "index \(next.digest)")
                    .manifests.filter { source.contains($0.digest) }
            } else if MediaType.isManifest(next.mediaType) {
                let manifest = try source.manifest(next.digest)
                pending += [manifest.config] + manifest.layers
            }
            guard !contains(next.digest) else { continue }
            let writer = try writer(expected: next.digest, size: next.size, source: source.root.path)
            let handle = try FileHandle(forReadingFrom: source.blobURL(next.digest))
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { try writer.write(chunk) }
            try writer.commit()
            copied += 1
        }
        return copied
    }
}
