import Foundation
import Glibc

/// Who made a container: the Slipway process (pid and its start time, so a reused pid is not
/// taken for the same process) and the run. Written into every bundle before runc starts, so
/// that after a crash the next Slipway can tell a dead owner's container from a live one.
struct ContainerOwner: Codable, Sendable, Hashable {
    var pid: Int32
    /// Field 22 of `/proc/<pid>/stat`: clock ticks since boot when the process started.
    var started: UInt64
    var run: String?

    static let fileName = "owner.json"

    static func current(run: String?) -> ContainerOwner {
        let pid = getpid()
        return ContainerOwner(pid: pid, started: startTime(of: pid) ?? 0, run: run)
    }

    /// Whether the owner is still running: the same process (not a later one with its pid),
    /// and not a zombie (killed, its parent not yet having reaped it).
    var isAlive: Bool {
        guard let fields = Self.statFields(of: pid), fields.count > 19 else { return false }
        return fields[0] != "Z" && UInt64(fields[19]) == started
    }

    static func startTime(of pid: Int32) -> UInt64? {
        guard let fields = statFields(of: pid), fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// Fields 3… of `/proc/<pid>/stat` (after "pid (comm)"): the state first, the start time 20th.
    private static func statFields(of pid: Int32) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    func write(into bundle: URL) throws {
        try JSONEncoder().encode(self).write(to: bundle.appendingPathComponent(Self.fileName))
    }

    static func read(from bundle: URL) -> ContainerOwner? {
        guard let data = try? Data(contentsOf: bundle.appendingPathComponent(fileName)) else { return nil }
        return try? JSONDecoder().decode(ContainerOwner.self, from: data)
    }
}
