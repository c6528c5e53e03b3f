public import Foundation
public import SlipwayOCI
import Glibc

/// Image layers unpacked once per diffID, each in overlayfs's own format (whiteouts as 0/0
/// devices, opaque directories as xattrs), so any stack of them can be the lower layers of an
/// overlay mount. Entries are complete or absent: a layer is unpacked into a private folder and
/// renamed into place, and when two builds race the loser's copy is thrown away.
///
/// Nothing enters the cache unverified: a layer is unpacked while its uncompressed stream is
/// hashed, and it is kept only when that digest is the diffID it is filed under. An image that
/// claims another image's diffID for its own layer is refused, so it cannot put its files
/// under the other image's name (and, through the instruction cache, into its builds).
public struct LayerCache: Sendable {
    public let root: URL
    public let store: ContentStore
    public let limits: UnpackLimits

    /// - Parameter root: `<state>/layers`; created when needed.
    public init(root: URL, store: ContentStore, limits: UnpackLimits = UnpackLimits()) {
        self.root = root
        self.store = store
        self.limits = limits
    }

    /// The cache that belongs next to `store` (`<state>/layers` beside `<state>/oci`).
    public init(beside store: ContentStore, limits: UnpackLimits = UnpackLimits()) {
        self.init(root: StateDirectory(of: store).layers, store: store, limits: limits)
    }

    /// A layer that could not be unpacked, named by its digest.
    public struct UnpackError: Error, CustomStringConvertible, Sendable {
        public var layer: Digest
        public var reason: String
        /// The image the layer belongs to, when the code that met it knows.
        public var image: String?

        public init(layer: Digest, reason: String, image: String? = nil) {
            self.layer = layer
            self.reason = reason
            self.image = image
        }

        public var description: String { "layer \(layer): \(reason)" }
    }

    public func directory(for diffID: Digest) -> URL {
        root.appendingPathComponent(diffID.algorithm.rawValue).appendingPathComponent(diffID.hex)
    }

    /// The unpacked form of `layer` (whose uncompressed digest is `diffID`), unpacking it now if
    /// no build has yet.
    public func unpacked(_ layer: Descriptor, diffID: Digest) throws -> URL {
        try unpacked(layer, diffID: diffID, after: 0)
    }

    /// - Parameter used: how much of the layer's image is unpacked already (see
    ///   ``UnpackLimits/extraction(after:allowDevices:)``).
    private func unpacked(_ layer: Descriptor, diffID: Digest, after used: Int64) throws -> URL {
        let target = directory(for: diffID)
        if FileManager.default.fileExists(atPath: target.path) { return target }
        let staging = try stagingDirectory()
        let report: LayerExtractor.Report
        var (extraction, imageCapBinds) = limits.extraction(after: used, allowDevices: true)
        extraction.keepOwnership = true  // containers see the image's owners
        do {
            report = try LayerExtractor(limits: extraction, whiteouts: .overlay)
                .extract(store.blobURL(layer.digest), into: staging, expectedDiffID: diffID)
        } catch is LayerExtractor.SizeLimitExceeded where imageCapBinds {
            try? FileManager.default.removeItem(at: staging)
            throw UnpackError(layer: layer.digest, reason: limits.imageCapMessage)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw UnpackError(layer: layer.digest, reason: "\(error)")
        }
        try? Data(String(report.uncompressedBytes).utf8).write(to: sizeRecord(for: diffID))
        return try adopt(staging, as: diffID)
    }

    /// Every layer of a stack unpacked (bottom first), refusing a stack that unpacks to more
    /// than ``UnpackLimits/maxImageBytes`` in all. Each layer may use what the image's cap
    /// leaves, so the layer that would pass it is stopped while unpacking and never enters the
    /// cache; layers cached earlier count by their recorded size.
    public func unpacked(stack layers: [(layer: Descriptor, diffID: Digest)]) throws -> [URL] {
        var total: Int64 = 0
        return try layers.map { layer, diffID in
            let url = try unpacked(layer, diffID: diffID, after: total)
            total += unpackedSize(of: diffID)
            guard total <= limits.maxImageBytes else { throw UnpackError(layer: layer.digest, reason: limits.imageCapMessage) }
            return url
        }
    }

    /// How many bytes the layer's uncompressed stream had when it was unpacked from a blob (0
    /// for layers a container wrote here).
    func unpackedSize(of diffID: Digest) -> Int64 {
        (try? String(contentsOf: sizeRecord(for: diffID), encoding: .utf8)).flatMap { Int64($0) } ?? 0
    }

    private func sizeRecord(for diffID: Digest) -> URL {
        root.appendingPathComponent(diffID.algorithm.rawValue).appendingPathComponent(diffID.hex + ".size")
    }

    /// Moves a directory that already is a layer in overlay form (a container's upper dir) into
    /// the cache under `diffID`.
    @discardableResult
    public func adopt(_ directory: URL, as diffID: Digest) throws -> URL {
        let target = self.directory(for: diffID)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        if rename(directory.path, target.path) != 0 {
            // Another build put the same layer here first; theirs is as good as ours.
            try? FileManager.default.removeItem(at: directory)
            guard FileManager.default.fileExists(atPath: target.path) else {
                throw RuntimeError.setup("cannot move a layer into \(target.path): \(String(cString: strerror(errno)))")
            }
        }
        return target
    }

    private func stagingDirectory() throws -> URL {
        let staging = root.appendingPathComponent("staging").appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        return staging
    }
}
