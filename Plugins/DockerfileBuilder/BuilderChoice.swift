public import SlipwayOCI

/// Which builder makes the image: Slipway's own (default), or buildah for what the native one
/// does not cover (and as the yardstick it is measured against).
public enum BuilderChoice: String, Sendable, Hashable, Codable, CaseIterable {
    case native
    case buildah

    public func build(_ request: BuildRequest, store: ContentStore, registry: RegistryClient) async throws -> NativeDockerfileBuilder.Result {
        switch self {
        case .native: try await NativeDockerfileBuilder(store: store, registry: registry).build(request)
        case .buildah: try await BuildahDockerfileBuilder(store: store, registry: registry).build(request)
        }
    }
}
