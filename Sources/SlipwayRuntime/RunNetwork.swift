public import Foundation
import Glibc
import SlipwayKernel

/// A run's own network: a bridge (`slwN`) with the subnet `10.89.N.0/24`, each container in a
/// network namespace of its own with an address from the subnet (CNI `bridge` + `host-local`,
/// outbound traffic masqueraded), ports published on the host's loopback (`portmap`), and a
/// shared `/etc/hosts` naming every container by its step id and aliases.
///
/// Bridges and subnets are host-wide, so each network claims a numbered slot under
/// `/run/slipway/networks` by holding an exclusive `flock` on `slot-N.lock` for its lifetime:
/// two runs (or two Slipway processes) never share one, and a slot whose lock is free but whose
/// folder is still there belongs to a dead process — it is cleared (CNI DEL of every recorded
/// container, namespaces unmounted, bridge deleted) before it is used again or by ``sweep(root:)``.
public actor RunNetwork {
    public static let defaultRoot = URL(fileURLWithPath: "/run/slipway/networks")
    static let slots = 0..<250

    public nonisolated let slot: Int
    public nonisolated let bridge: String
    public nonisolated let subnet: String
    nonisolated let directory: URL
    private let lock: Int32
    private var members: [String: Member] = [:]
    private var removed = false

    /// One container on the network, as recorded on disk (for clean-up after a crash).
    struct Member: Codable, Sendable {
        var containerID: String
        var namespace: String
        var names: [String]
        var address: String?
        var ports: [Port]

        struct Port: Codable, Sendable {
            var hostPort: UInt16
            var containerPort: UInt16
            var proto: String
        }
    }

    /// The bridge and subnet of a slot: host-wide names, the same for every process.
    static func bridge(_ slot: Int) -> String { "slw\(slot)" }
    static func subnet(_ slot: Int) -> String { "10.89.\(slot).0/24" }

    private init(slot: Int, directory: URL, lock: Int32) {
        self.slot = slot
        self.bridge = Self.bridge(slot)
        self.subnet = Self.subnet(slot)
        self.directory = directory
        self.lock = lock
    }

    nonisolated var hosts: URL { directory.appendingPathComponent("hosts") }
    nonisolated var resolvConf: URL { directory.appendingPathComponent("resolv.conf") }
    nonisolated var namespaces: URL { directory.appendingPathComponent("ns") }

    /// Claims a free slot and prepares its folder (the bridge itself is made by CNI on the
    /// first attach).
    /// - Throws: ``RuntimeError`` when the CNI plugins are missing or every slot is taken.
    public static func create(root: URL = defaultRoot) async throws -> RunNetwork {
        for type in ["bridge", "host-local", "loopback", "portmap"] { _ = try CNIPlugin(type) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for slot in slots {
            guard let lock = claim(slot, in: root) else { continue }
            let directory = root.appendingPathComponent("slot-\(slot)")
            await clear(slot: slot, directory: directory)
            let network = RunNetwork(slot: slot, directory: directory, lock: lock)
            do {
                try FileManager.default.createDirectory(at: network.namespaces, withIntermediateDirectories: true)
                try Data().write(to: network.hosts)
                try Data(Self.resolverConfiguration().utf8).write(to: network.resolvConf)
            } catch {
                await network.remove()
                throw RuntimeError.setup("cannot prepare the run network in \(directory.path): \(error)")
            }
            await network.writeHosts()
            return network
        }
        throw RuntimeError.setup("every run network slot under \(root.path) is in use (\(slots.count) runs at once)")
    }

    /// Puts a new container's namespace on the network under `names` (its step id, aliases),
    /// with `ports` published on the host's loopback.
    public func attach(containerID: String, names: [String], ports: [PortMapping]) async throws -> NetworkAttachment {
        guard !removed else { throw RuntimeError.setup("the run network \(bridge) has been removed") }
        let namespace = namespaces.appendingPathComponent(containerID)
        var member = Member(
            containerID: containerID, namespace: namespace.path, names: names, address: nil,
            ports: ports.map { Member.Port(hostPort: $0.hostPort, containerPort: $0.containerPort, proto: $0.proto) })
        // Recorded before anything is made, so a crash from here on is cleaned up.
        members[containerID] = member
        try record(member)
        do {
            try await Self.makeNamespace(at: namespace)
            _ = try await CNIPlugin("loopback").invoke(.add, configuration: ["name": "lo"], containerID: containerID, namespace: namespace, interface: "lo")
            let result = try await CNIPlugin("bridge").invoke(.add, configuration: bridgeConfiguration, containerID: containerID, namespace: namespace)
            if !ports.isEmpty {
                var configuration = portmapConfiguration(member.ports)
                configuration["prevResult"] = result
                _ = try await CNIPlugin("portmap").invoke(.add, configuration: configuration, containerID: containerID, namespace: namespace)
            }
            let ips = result["ips"] as? [[String: any Sendable]] ?? []
            guard let cidr = ips.first?["address"] as? String, let address = cidr.split(separator: "/").first.map(String.init) else {
                throw RuntimeError.setup("CNI bridge gave \(containerID) no address on \(bridge)")
            }
            member.address = address
            members[containerID] = member
            try record(member)
            writeHosts()
            return NetworkAttachment(namespace: namespace, hosts: hosts, resolvConf: resolvConf, address: address)
        } catch {
            await detach(containerID: containerID)
            throw error
        }
    }

    /// Takes a container off the network (its addresses, port mappings and namespace).
    public func detach(containerID: String) async {
        guard let member = members.removeValue(forKey: containerID) else { return }
        await Self.release(member, bridgeConfiguration: bridgeConfiguration, portmap: portmapConfiguration(member.ports))
        try? FileManager.default.removeItem(at: recordURL(containerID))
        writeHosts()
    }

    /// Detaches every container, deletes the bridge and gives the slot back.
    public func remove() async {
        guard !removed else { return }
        removed = true
        for id in members.keys.sorted() { await detach(containerID: id) }
        await Self.clear(slot: slot, directory: directory)
        close(lock)
    }

    /// Clears every slot no live process holds (after `kill -9` of a Slipway mid-run).
    /// - Returns: the bridges that were cleared.
    @discardableResult
    public static func sweep(root: URL = defaultRoot) async -> [String] {
        var cleared: [String] = []
        for slot in slots {
            let directory = root.appendingPathComponent("slot-\(slot)")
            guard FileManager.default.fileExists(atPath: directory.path), let lock = claim(slot, in: root) else { continue }
            await clear(slot: slot, directory: directory)
            close(lock)
            cleared.append(bridge(slot))
        }
        return cleared
    }

    // MARK: Slots

    private static func claim(_ slot: Int, in root: URL) -> Int32? {
        let descriptor = open(root.appendingPathComponent("slot-\(slot).lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    /// Removes what a slot's last owner left: recorded containers (CNI DEL, namespaces), the
    /// bridge, the folder. Each part is best effort; what is already gone is skipped.
    private static func clear(slot: Int, directory: URL) async {
        let records = directory.appendingPathComponent("records")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: records.path)) ?? []
        let configuration = bridgeConfiguration(slot: slot, directory: directory)
        for name in names where name.hasSuffix(".json") {
            guard let data = try? Data(contentsOf: records.appendingPathComponent(name)),
                let member = try? JSONDecoder().decode(Member.self, from: data)
            else { continue }
            await release(member, bridgeConfiguration: configuration, portmap: portmapConfiguration(slot: slot, member.ports))
        }
        _ = try? await ExternalCommand("ip", ["link", "delete", bridge(slot)]).runAllowingFailure()
        try? FileManager.default.removeItem(at: directory)
    }

    private static func release(_ member: Member, bridgeConfiguration: [String: any Sendable], portmap: [String: any Sendable]) async {
        let namespace = URL(fileURLWithPath: member.namespace)
        if !member.ports.isEmpty {
            _ = try? await CNIPlugin("portmap").invoke(.del, configuration: portmap, containerID: member.containerID, namespace: namespace)
        }
        _ = try? await CNIPlugin("bridge").invoke(.del, configuration: bridgeConfiguration, containerID: member.containerID, namespace: namespace)
        await BlockingWork.run {
            if umount2(namespace.path, 0) != 0 { _ = umount2(namespace.path, Int32(MNT_DETACH)) }
            unlink(namespace.path)
        }
    }

    // MARK: Files

    private func recordURL(_ containerID: String) -> URL {
        directory.appendingPathComponent("records").appendingPathComponent(containerID + ".json")
    }

    private func record(_ member: Member) throws {
        try FileManager.default.createDirectory(at: recordURL(member.containerID).deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONEncoder().encode(member).write(to: recordURL(member.containerID))
    }

    /// Rewritten in place, never replaced: every container has this very file bound at
    /// `/etc/hosts`, and a bind mount keeps the inode it was given.
    private func writeHosts() {
        var text = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        for member in members.values.sorted(by: { $0.containerID < $1.containerID }) {
            guard let address = member.address, !member.names.isEmpty else { continue }
            text += "\(address)\t\(member.names.joined(separator: " "))\n"
        }
        let descriptor = open(hosts.path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        _ = text.withCString { write(descriptor, $0, strlen($0)) }
    }

    /// The host's resolver configuration without loopback name servers, which a container's
    /// own loopback would not answer.
    private static func resolverConfiguration() -> String {
        let host = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        return host.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count >= 2, fields[0] == "nameserver" else { return true }
            return !(fields[1].hasPrefix("127.") || fields[1] == "::1")
        }.joined(separator: "\n")
    }

    /// Made by binding a new network namespace (util-linux `unshare --net=FILE`) onto a file.
    private static func makeNamespace(at file: URL) async throws {
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw RuntimeError.setup("cannot create \(file.path)")
        }
        do {
            try await ExternalCommand("unshare", ["--net=\(file.path)", "true"]).run()
        } catch {
            throw RuntimeError.setup("cannot make a network namespace at \(file.path): \(error)")
        }
    }

    // MARK: CNI configuration

    private var bridgeConfiguration: [String: any Sendable] { Self.bridgeConfiguration(slot: slot, directory: directory) }

    private static func bridgeConfiguration(slot: Int, directory: URL) -> [String: any Sendable] {
        [
            "name": "slipway-\(slot)", "bridge": bridge(slot), "isGateway": true, "ipMasq": true, "hairpinMode": true,
            "ipam": [
                "type": "host-local", "ranges": [[["subnet": subnet(slot)]]], "routes": [["dst": "0.0.0.0/0"]],
                "dataDir": directory.appendingPathComponent("ipam").path,
            ] as [String: any Sendable],
        ]
    }

    private func portmapConfiguration(_ ports: [Member.Port]) -> [String: any Sendable] {
        Self.portmapConfiguration(slot: slot, ports)
    }

    private static func portmapConfiguration(slot: Int, _ ports: [Member.Port]) -> [String: any Sendable] {
        [
            "name": "slipway-\(slot)", "capabilities": ["portMappings": true],
            "runtimeConfig": [
                "portMappings": ports.map {
                    ["hostPort": Int($0.hostPort), "containerPort": Int($0.containerPort), "protocol": $0.proto, "hostIP": "127.0.0.1"] as [String: any Sendable]
                }
            ] as [String: any Sendable],
        ]
    }
}
