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

    /// Whether the owner is still running (the same process, not a later one with its pid).
    var isAlive: Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        return Self.startTime(of: pid) == started
    }

    static func startTime(of pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)" come fields 3…; the start time is field 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    func write(into bundle: URL) throws {
        try JSONEncoder().encode(self).write(to: bundle.appendingPathComponent(Self.fileName))
    }

    static func read(from bundle: URL) -> ContainerOwner? {
        guard let data = try? Data(contentsOf: bundle.appendingPathComponent(fileName)) else { return nil }
        return try? JSONDecoder().decode(ContainerOwner.self, from: data)
    }
}
