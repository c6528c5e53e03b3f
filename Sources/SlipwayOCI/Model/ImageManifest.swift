public import Foundation

/// An image manifest: OCI (`application/vnd.oci.image.manifest.v1+json`) or Docker schema 2
/// (`application/vnd.docker.distribution.manifest.v2+json`); the JSON shape is the same.
public struct ImageManifest: Sendable, Hashable, Codable {
    public var schemaVersion: Int = 2
    public var mediaType: String?
    public var artifactType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(mediaType: String = MediaType.ociManifest, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }

    /// The same image with Docker schema 2 or OCI media types throughout.
    public func converted(toDocker: Bool) -> ImageManifest {
        var copy = self
        copy.mediaType = toDocker ? MediaType.dockerManifest : MediaType.ociManifest
        copy.config.mediaType = toDocker ? MediaType.dockerConfig : MediaType.ociConfig
        copy.layers = layers.map { layer in
            var layer = layer
            switch layer.mediaType {
            case MediaType.ociLayerGzip where toDocker: layer.mediaType = MediaType.dockerLayerGzip
            case MediaType.dockerLayerGzip where !toDocker: layer.mediaType = MediaType.ociLayerGzip
            default: break
            }
            return layer
        }
        return copy
    }
}

/// An index (OCI) or manifest list (Docker): one manifest per platform.
public struct ImageIndex: Sendable, Hashable, Codable {
    public var schemaVersion: Int = 2
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String = MediaType.ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }

    /// The entry for `platform`, preferring an exact variant match.
    public func manifest(for platform: Platform) -> Descriptor? {
        let candidates = manifests.filter { $0.platform.map(platform.matches) ?? false }
        return candidates.first { $0.platform?.variant == platform.variant } ?? candidates.first
    }
}

/// Canonical JSON for content we write: sorted keys, no escaped slashes. Same value, same bytes,
/// same digest.
public enum CanonicalJSON {
    public static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(.iso8601))
        }
        return try encoder.encode(value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw OCIError.invalidContent("\(what) is not valid: \(error)")
        }
    }
}
