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

    /// What the store has under `reference`, and the platform of that image. A tag names one
    /// platform's image (the one last built or pulled under it); the platform is nil when the
    /// tag names an index or a manifest the store cannot read, which callers read again from
    /// the registry.
    public func taggedImage(_ reference: ImageReference) throws -> (descriptor: Descriptor, platform: Platform?)? {
        guard let descriptor = try resolve(reference.description) else { return nil }
        return (descriptor, try? config(of: manifest(descriptor.digest)).platform)
    }
}
