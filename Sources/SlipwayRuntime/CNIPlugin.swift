import Foundation
import SlipwayKernel

/// One CNI plugin binary (Debian's `containernetworking-plugins`), invoked as the CNI
/// specification says: the command and the container in environment variables, the network
/// configuration as JSON on stdin, the result (or a structured error) as JSON on stdout.
struct CNIPlugin: Sendable {
    static let searchPath = ["/usr/lib/cni", "/opt/cni/bin"]
    static let version = "1.0.0"

    let type: String
    let path: String

    /// - Throws: ``RuntimeError/unavailable(_:)`` when the plugin is not installed.
    init(_ type: String) throws {
        let candidates: [String] = Self.searchPath.map { folder in folder + "/" + type }
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw RuntimeError.unavailable(
                "the CNI plugin '\(type)' is not in \(Self.searchPath.joined(separator: " or ")); install it with: apt-get install -y containernetworking-plugins")
        }
        self.type = type
        self.path = path
    }

    enum Command: String { case add = "ADD", del = "DEL" }

    /// Runs the plugin (a host tool, off the cooperative pool) and returns its result object.
    /// The specification puts errors on stdout, as JSON; stderr is only chatter.
    /// - Parameter configuration: the network configuration; `cniVersion` and `type` are added.
    /// - Throws: ``RuntimeError/setup(_:)`` with the plugin's own message when it fails.
    func invoke(
        _ command: Command, configuration: [String: any Sendable], containerID: String, namespace: URL, interface: String = "eth0"
    ) async throws -> [String: any Sendable] {
        var configuration = configuration
        configuration["cniVersion"] = Self.version
        configuration["type"] = type
        let input = try JSONSerialization.data(withJSONObject: configuration, options: [.sortedKeys])
        var plugin = ExternalCommand(path, [], environment: [
            "CNI_COMMAND": command.rawValue, "CNI_CONTAINERID": containerID, "CNI_NETNS": namespace.path, "CNI_IFNAME": interface,
            "CNI_PATH": Self.searchPath.joined(separator: ":"),
        ])
        plugin.input = input
        // Not cancelled with the caller: a step cancelled mid-run still takes its container off
        // the network (a killed DEL would leave its address and NAT rules behind).
        let ran = try await Task.detached { [plugin] in try await plugin.runAllowingFailure() }.value
        let (status, output) = (ran.status, Data(ran.stdout.utf8))
        let result = (try? JSONSerialization.jsonObject(with: output)) as? [String: any Sendable] ?? [:]
        guard status == 0 else {
            let message = (result["msg"] as? String).map { message in
                (result["details"] as? String).map { "\(message): \($0)" } ?? message
            } ?? String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw RuntimeError.setup("CNI \(type) \(command.rawValue) for \(containerID) failed: \(message)")
        }
        return result
    }
}
