public import SlipwayKernel
import SlipwayOCI

/// `builder = "buildah"`: the same request through the `buildah` command (vfs storage, chroot
/// isolation), for what the native builder does not cover and as its yardstick.
public struct BuildahBuilder: PluginKind, DockerfileBuilding {
    public static let kind = "buildah"
    public static let summary = "builds through the buildah command (vfs storage, chroot isolation)"

    public init(configuration: NoBuilderConfiguration) {}

    /// buildah unpacks its bases and runs its steps itself, and 1.28 has no named contexts.
    public var unsupportedKeys: Set<String> { ["max_layer_size", "max_image_size", "min_free_space", "seccomp", "build_contexts", "stream_layers"] }

    public func build(_ request: BuildRequest, in context: StepContext) async throws -> BuildReport {
        try await BuildahDockerfileBuilder(store: context.contentStore(), registry: context.registryClient()).build(request).report
    }
}
