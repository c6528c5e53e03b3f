public import Foundation
import Glibc

/// `git daemon` serving a folder of bare repositories on a free loopback port (the `git://`
/// transport), for tests of Git build contexts. The same repositories are reachable over
/// `file://` as ``fileURL(_:)``.
public final class GitServer: Sendable {
    public let root: URL
    public let port: Int
    private let process: Process

    private init(root: URL, port: Int, process: Process) {
        self.root = root
        self.port = port
        self.process = process
    }

    /// - Throws: ``Prerequisites/Missing`` when git is not installed.
    public static func start() async throws -> GitServer {
        try Prerequisites.require(["git"])
        let root = try Scratch.directory("git-server")
        let port = try RegistryHarness.freePort()
        // git-daemon itself, not the `git daemon` wrapper: stopping the wrapper would leave
        // the daemon serving (and waiting for it would hang).
        let execPath = try await Shell.run("git", ["--exec-path"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: execPath + "/git-daemon")
        process.arguments = [
            "--reuseaddr", "--export-all", "--base-path=\(root.path)", "--listen=127.0.0.1", "--port=\(port)",
            "--enable=upload-pack", root.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = GitServer(root: root, port: port, process: process)
        for _ in 0..<100 {
            if Self.accepts(port) { return server }
            try await Task.sleep(for: .milliseconds(50))
        }
        server.stop()
        throw Shell.Failure(description: "git daemon did not start listening on port \(port)")
    }

    /// SIGKILL: a child of a Swift process may start with SIGTERM blocked (it inherits the
    /// spawning thread's signal mask), and git-daemon installs no handler that would unblock it.
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public func gitURL(_ name: String) -> String { "git://127.0.0.1:\(port)/\(name).git" }
    public func fileURL(_ name: String) -> String { "file://\(root.path)/\(name).git" }

    /// A bare repository `name.git` made from commits of `files` (each a full tree); branch
    /// names map to their commits. Returns each commit's sha, in order.
    @discardableResult
    public func createRepository(_ name: String, commits: [(branch: String, files: [String: String])]) async throws -> [String] {
        let work = try Scratch.directory("git-work")
        defer { try? FileManager.default.removeItem(at: work) }
        let env = ["-c", "user.name=Slipway Test", "-c", "user.email=test@slipway.invalid", "-c", "init.defaultBranch=main"]
        try await Shell.run("git", env + ["init", "-q", work.path])
        var shas: [String] = []
        for (index, commit) in commits.enumerated() {
            let branches = try await Shell.run("git", ["-C", work.path, "branch", "--list", commit.branch])
            if index > 0 {
                try await Shell.run("git", ["-C", work.path, "checkout", "-q"] + (branches.isEmpty ? ["-b", commit.branch] : [commit.branch]))
            }
            try await Shell.run("git", ["-C", work.path, "rm", "-rq", "--ignore-unmatch", "."])
            for (path, text) in commit.files {
                let file = work.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try text.write(to: file, atomically: false, encoding: .utf8)
            }
            try await Shell.run("git", ["-C", work.path, "add", "-A"])
            try await Shell.run("git", env + ["-C", work.path, "commit", "-qm", "commit \(index)", "--date=@\(1_700_000_000 + index)"])
            shas.append(try await Shell.run("git", ["-C", work.path, "rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let bare = root.appendingPathComponent("\(name).git")
        try await Shell.run("git", ["clone", "-q", "--bare", work.path, bare.path])
        try await Shell.run("git", ["-C", bare.path, "symbolic-ref", "HEAD", "refs/heads/main"])
        return shas
    }

    /// Points `ref` (e.g. `refs/pull/7/head`) at `sha` in the bare repository.
    public func setRef(_ ref: String, to sha: String, in name: String) async throws {
        try await Shell.run("git", ["-C", root.appendingPathComponent("\(name).git").path, "update-ref", ref, sha])
    }

    /// Whether something listens on the loopback port.
    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
