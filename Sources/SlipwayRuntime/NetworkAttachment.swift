public import Foundation

/// A network namespace prepared for a container before it starts (a run network's, see
/// ``RunNetwork``): the container joins it instead of getting the host's network or none, and
/// sees the network's own name table and resolver configuration.
public struct NetworkAttachment: Sendable, Hashable {
    /// The namespace, bound to a file (`/run/slipway/networks/…/ns/<container>`).
    public var namespace: URL
    /// Mounted read-only at `/etc/hosts`: every step id and alias on the network.
    public var hosts: URL
    /// Mounted read-only at `/etc/resolv.conf` when given.
    public var resolvConf: URL?
    /// The container's address on the network.
    public var address: String

    public init(namespace: URL, hosts: URL, resolvConf: URL?, address: String) {
        self.namespace = namespace
        self.hosts = hosts
        self.resolvConf = resolvConf
        self.address = address
    }
}
