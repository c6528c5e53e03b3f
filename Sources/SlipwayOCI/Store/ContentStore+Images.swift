extension ContentStore {
    /// The image manifest stored under `digest`.
    /// - Parameter what: how errors name it (default `manifest <digest>`).
    public func manifest(_ digest: Digest, what: String? = nil) throws -> ImageManifest {
        try CanonicalJSON.decode(ImageManifest.self, from: data(digest), what: what ?? "manifest \(digest)")
    }

    /// The image configuration `manifest` points at.
    /// - Parameter what: how errors name it (default `config <digest>`).
    public func config(of manifest: ImageManifest, what: String? = nil) throws -> ImageConfig {
        try CanonicalJSON.decode(ImageConfig.self, from: data(manifest.config.digest), what: what ?? "config \(manifest.config.digest)")
    }
}
