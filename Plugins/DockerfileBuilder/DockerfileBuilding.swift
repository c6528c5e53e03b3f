public import SlipwayKernel

/// A builder of Dockerfiles: what the `build` step finds by kind (`builder = "buildah"`). Every
/// such builder takes the same ``BuildRequest``; one that cannot honour part of it says which
/// of the step's keys, and the step refuses them before the run rather than build without them.
public protocol DockerfileBuilding: Builder where Request == BuildRequest {
    /// The `build` step's keys (`seccomp`, `build_contexts`…) this builder cannot honour.
    var unsupportedKeys: Set<String> { get }
}

/// A builder kind's configuration when it has nothing to configure: the `build` step's own
/// keys carry the request.
public struct NoBuilderConfiguration: Decodable, Sendable {
    public init() {}
}
