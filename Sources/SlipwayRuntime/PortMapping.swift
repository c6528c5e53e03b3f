/// A container port published on the host's loopback (`ports = { "8080:80" }`): Docker's
/// `-p [127.0.0.1:]HOST:CONTAINER[/tcp|udp]` syntax, loopback only, so a build host never
/// opens a port to its network because a recipe asked.
public struct PortMapping: Sendable, Hashable, CustomStringConvertible {
    public var hostPort: UInt16
    public var containerPort: UInt16
    public var proto: String

    public init(hostPort: UInt16, containerPort: UInt16, proto: String = "tcp") {
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }

    /// - Throws: a message saying what is wrong with `text`.
    public init(parsing text: String) throws(PortMappingError) {
        var rest = Substring(text)
        var proto = "tcp"
        if let slash = rest.lastIndex(of: "/") {
            proto = String(rest[rest.index(after: slash)...]).lowercased()
            rest = rest[..<slash]
            guard proto == "tcp" || proto == "udp" else { throw PortMappingError(text: text, reason: "the protocol must be tcp or udp") }
        }
        var parts = rest.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 3 {
            guard parts[0] == "127.0.0.1" || parts[0] == "localhost" else {
                throw PortMappingError(text: text, reason: "ports are published on the host's loopback only (127.0.0.1), not on \(parts[0])")
            }
            parts.removeFirst()
        }
        guard (1...2).contains(parts.count) else { throw PortMappingError(text: text, reason: "expected [127.0.0.1:]HOST:CONTAINER[/tcp|udp]") }
        guard let host = UInt16(parts[0]), host > 0, let container = UInt16(parts[parts.count - 1]), container > 0 else {
            throw PortMappingError(text: text, reason: "ports are numbers from 1 to 65535")
        }
        self.init(hostPort: host, containerPort: container, proto: proto)
    }

    public var description: String { "127.0.0.1:\(hostPort)->\(containerPort)/\(proto)" }
}

public struct PortMappingError: Error, CustomStringConvertible, Sendable {
    public var text: String
    public var reason: String
    public var description: String { "port '\(text)': \(reason)" }
}
