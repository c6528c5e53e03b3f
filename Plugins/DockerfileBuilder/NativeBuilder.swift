public import SlipwayKernel
import SlipwayOCI

/// `builder = "native"` (the default): Slipway's own Dockerfile builder, RUN in runc containers.
public struct NativeBuilder: PluginKind, DockerfileBuilding {
    public static let kind = "native"
    public static let summary = "Slipway's own Dockerfile builder (the default): COPY written from the context, RUN in runc"

    public init(configuration: NoBuilderConfiguration) {}

    public var unsupportedKeys: Set<String> { [] }

    public func build(_ request: BuildRequest, in context: StepContext) async throws -> BuildReport {
        try await NativeDockerfileBuilder(store: context.contentStore(), registry: context.registryClient()).build(request).report
    }
}
