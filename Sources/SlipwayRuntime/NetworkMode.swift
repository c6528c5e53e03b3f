/// How a container reaches the network.
public enum NetworkMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// The host's network stack (what build steps get by default: package downloads work).
    case host
    /// A network namespace of its own with only loopback: no way out.
    case none
}
