public import Foundation

extension ContentStore {
    public struct CollectionReport: Sendable, Equatable {
        public var removedBlobs: Int
        public var removedBytes: Int64
        public var keptBlobs: Int
    }

    /// Every blob reachable from the tagged entries of `index.json`: indexes, manifests, configs,
    /// layers and subjects.
    public func reachableBlobs() throws -> Set<Digest> {
        var reachable = Set<Digest>()
        var pending = try readIndex().manifests
        while let descriptor = pending.popLast() {
            guard reachable.insert(descriptor.digest).inserted, contains(descriptor.digest) else { continue }
            if MediaType.isIndex(descriptor.mediaType) {
                pending += try CanonicalJSON.decode(ImageIndex.self, from: data(descriptor.digest), what: "index \(descriptor.digest)").manifests
            } else if MediaType.isManifest(descriptor.mediaType) {
                let manifest = try manifest(descriptor.digest)
                pending += [manifest.config] + manifest.layers + (manifest.subject.map { [$0] } ?? [])
            }
        }
        return reachable
    }

    /// Removes blobs no tag reaches, and abandoned temporary files. Blobs and temporary files
    /// younger than `gracePeriod` are kept: another process may be about to tag them.
    public func collectGarbage(gracePeriod: TimeInterval = 600, now: Date = Date()) throws -> CollectionReport {
        try withIndexLock {
            let reachable = try reachableBlobs()
            var report = CollectionReport(removedBlobs: 0, removedBytes: 0, keptBlobs: 0)
            let fm = FileManager.default
            for algorithm in Digest.Algorithm.allCases {
                let folder = root.appendingPathComponent("blobs/\(algorithm.rawValue)")
                for name in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] {
                    let url = folder.appendingPathComponent(name)
                    let attributes = try? fm.attributesOfItem(atPath: url.path)
                    let modified = attributes?[.modificationDate] as? Date ?? now
                    let size = attributes?[.size] as? Int64 ?? 0
                    let digest = try? Digest(parsing: "\(algorithm.rawValue):\(name)")
                    if let digest, reachable.contains(digest) || now.timeIntervalSince(modified) < gracePeriod {
                        report.keptBlobs += 1
                        continue
                    }
                    if digest == nil && now.timeIntervalSince(modified) < gracePeriod { continue }
                    try fm.removeItem(at: url)
                    report.removedBlobs += 1
                    report.removedBytes += size
                }
            }
            for name in (try? fm.contentsOfDirectory(atPath: temporaryDirectory.path)) ?? [] {
                let url = temporaryDirectory.appendingPathComponent(name)
                let modified = (try? fm.attributesOfItem(atPath: url.path)[.modificationDate] as? Date) ?? now
                if now.timeIntervalSince(modified) >= gracePeriod { try? fm.removeItem(at: url) }
            }
            if report.removedBlobs > 0 { CompressedChunkCache.prune(beside: self) }
            return report
        }
    }
}
