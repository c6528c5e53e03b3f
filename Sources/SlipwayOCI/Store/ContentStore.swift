public import Foundation
import Glibc

/// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`): Slipway's
/// local content store, readable by skopeo (`oci:DIR:NAME`) and umoci.
///
/// Blobs are written to a temporary file, verified, synced and renamed into place, so a reader
/// never sees a partial blob and two writers of the same content cannot corrupt it. Changes to
/// `index.json` (tags) take an exclusive `flock` and are written atomically too.
public struct ContentStore: Sendable {
    public let root: URL

    /// Opens (creating if needed) the layout at `root`.
    /// - Throws: ``OCIError`` when the directory holds something that is not an OCI layout.
    public init(root: URL) throws {
        self.root = root.standardizedFileURL
        let fm = FileManager.default
        try fm.createDirectory(at: self.root.appendingPathComponent("blobs/sha256"), withIntermediateDirectories: true)
        try fm.createDirectory(at: temporaryDirectory, withIntermediateDirectories: true)
        let layout = self.root.appendingPathComponent("oci-layout")
        if let existing = fm.contents(atPath: layout.path) {
            guard let json = try? JSONSerialization.jsonObject(with: existing) as? [String: Any],
                json["imageLayoutVersion"] as? String == "1.0.0"
            else { throw OCIError.invalidContent("\(layout.path) is not an OCI image layout 1.0.0 marker") }
        } else {
            try Self.atomicWrite(Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: layout, temporaryDirectory: temporaryDirectory)
        }
        if !fm.fileExists(atPath: indexURL.path) {
            try withIndexLock { try writeIndex(ImageIndex(manifests: [])) }
        }
    }

    /// The default state directory: `$SLIPWAY_STATE_DIR`, else `~/.local/share/slipway`.
    public static func defaultStateDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let explicit = environment["SLIPWAY_STATE_DIR"], !explicit.isEmpty { return URL(fileURLWithPath: explicit) }
        let base = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/share")
        return URL(fileURLWithPath: base).appendingPathComponent("slipway")
    }

    /// The store inside a state directory (`<state>/oci`), after making the state directory
    /// private (see ``StateDirectory/secure()``).
    public static func inStateDirectory(_ state: URL) throws -> ContentStore {
        let directory = StateDirectory(state)
        try directory.secure()
        return try ContentStore(root: directory.store)
    }

    /// The store of the default state directory (see ``defaultStateDirectory(environment:)``).
    public static func openDefault() throws -> ContentStore { try inStateDirectory(defaultStateDirectory()) }

    var indexURL: URL { root.appendingPathComponent("index.json") }
    var temporaryDirectory: URL { root.appendingPathComponent("blobs/.tmp") }

    func temporaryURL() -> URL { temporaryDirectory.appendingPathComponent(UUID().uuidString) }

    // MARK: Blobs

    public func blobURL(_ digest: Digest) -> URL {
        root.appendingPathComponent("blobs/\(digest.algorithm.rawValue)/\(digest.hex)")
    }

    public func contains(_ digest: Digest) -> Bool { FileManager.default.fileExists(atPath: blobURL(digest).path) }

    /// Size of a stored blob, or nil.
    public func size(of digest: Digest) -> Int64? {
        (try? FileManager.default.attributesOfItem(atPath: blobURL(digest).path)[.size] as? Int64) ?? nil
    }

    /// Reads a whole blob (manifests, configs), verifying it against its digest.
    public func data(_ digest: Digest) throws -> Data {
        guard let data = FileManager.default.contents(atPath: blobURL(digest).path) else {
            throw OCIError.notFound("blob \(digest) in \(root.path)")
        }
        var hasher = DigestHasher(digest.algorithm)
        hasher.update(data)
        let actual = hasher.finalize()
        guard actual == digest else { throw OCIError.digestMismatch(expected: digest, actual: actual, source: "the content store") }
        return data
    }

    /// Starts writing a blob; see ``BlobWriter``.
    /// - Parameters:
    ///   - expected: the digest the content must have (verified on commit).
    ///   - source: where the bytes come from, for error messages.
    public func writer(expected: Digest? = nil, size: Int64? = nil, source: String = "input") throws -> BlobWriter {
        try BlobWriter(store: self, expected: expected, expectedSize: size, source: source)
    }

    /// Stores `data`, verifying it against `expected` when given.
    @discardableResult
    public func write(_ data: Data, expected: Digest? = nil, source: String = "input") throws -> Digest {
        if let expected, contains(expected) {
            var hasher = DigestHasher(expected.algorithm)
            hasher.update(data)
            let actual = hasher.finalize()
            guard actual == expected else { throw OCIError.digestMismatch(expected: expected, actual: actual, source: source) }
            return expected
        }
        // Configs and manifests are often made again byte for byte (a cached build): hashing
        // them first spares a temporary file and two fsyncs.
        if expected == nil {
            var hasher = DigestHasher()
            hasher.update(data)
            let digest = hasher.finalize()
            if contains(digest) { return digest }
        }
        let writer = try writer(expected: expected, source: source)
        try writer.write(data)
        return try writer.commit().digest
    }

    /// Stores a value as canonical JSON and returns its descriptor.
    public func write(json value: some Encodable, mediaType: String) throws -> Descriptor {
        let data = try CanonicalJSON.encode(value)
        return Descriptor(mediaType: mediaType, digest: try write(data), size: Int64(data.count))
    }

    /// Moves a verified temporary file into place; an existing blob (same content) wins.
    func install(_ temporary: URL, as digest: Digest) throws {
        let destination = blobURL(digest)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        if rename(temporary.path, destination.path) != 0 {
            let error = errno
            try? FileManager.default.removeItem(at: temporary)
            throw OCIError.invalidContent("cannot store blob \(digest): \(String(cString: strerror(error)))")
        }
        Self.syncDirectory(destination.deletingLastPathComponent())
    }

    // MARK: Tags (index.json)

    /// All tagged entries, by name.
    public func tags() throws -> [(name: String, descriptor: Descriptor)] {
        try readIndex().manifests.compactMap { entry in entry.annotations?[Annotation.refName].map { ($0, entry) } }
            .sorted { $0.name < $1.name }
    }

    public func resolve(_ name: String) throws -> Descriptor? {
        try readIndex().manifests.first { $0.annotations?[Annotation.refName] == name }
    }

    /// Points `name` at `descriptor` (replacing what it pointed at).
    public func tag(_ name: String, _ descriptor: Descriptor) throws {
        guard !name.isEmpty, !name.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw OCIError.invalidInput("invalid tag name '\(name)'")
        }
        guard contains(descriptor.digest) else { throw OCIError.notFound("blob \(descriptor.digest)") }
        try withIndexLock {
            var index = try readIndex()
            var entry = descriptor
            entry.annotations = (entry.annotations ?? [:]).merging([Annotation.refName: name]) { _, new in new }
            // Tagging again what the tag already names changes nothing: no rewrite, no fsync.
            if index.manifests.filter({ $0.annotations?[Annotation.refName] == name }) == [entry] { return }
            index.manifests.removeAll { $0.annotations?[Annotation.refName] == name }
            index.manifests.append(entry)
            try writeIndex(index)
        }
    }

    /// Removes a tag. - Returns: whether it existed.
    @discardableResult
    public func untag(_ name: String) throws -> Bool {
        try withIndexLock {
            var index = try readIndex()
            let before = index.manifests.count
            index.manifests.removeAll { $0.annotations?[Annotation.refName] == name }
            try writeIndex(index)
            return index.manifests.count != before
        }
    }

    func readIndex() throws -> ImageIndex {
        guard let data = FileManager.default.contents(atPath: indexURL.path) else { throw OCIError.notFound(indexURL.path) }
        return try CanonicalJSON.decode(ImageIndex.self, from: data, what: indexURL.path)
    }

    private func writeIndex(_ index: ImageIndex) throws {
        var index = index
        index.mediaType = MediaType.ociIndex
        try Self.atomicWrite(try CanonicalJSON.encode(index), to: indexURL, temporaryDirectory: temporaryDirectory)
    }

    /// Runs `body` holding an exclusive lock on the layout's index (across processes).
    func withIndexLock<T>(_ body: () throws -> T) throws -> T {
        let path = root.appendingPathComponent(".slipway-index.lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OCIError.invalidContent("cannot open lock \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw OCIError.invalidContent("cannot lock \(path): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    // MARK: Files

    static func atomicWrite(_ data: Data, to url: URL, temporaryDirectory: URL) throws {
        try FileReplacement.write(data, to: url, durable: true, staging: temporaryDirectory)
    }

    /// Makes a rename durable.
    static func syncDirectory(_ url: URL) { FileReplacement.syncFolder(url) }
}
