public import Foundation
import Glibc

/// The CNCF Distribution registry (Debian's `docker-registry`) started for a test on a free
/// loopback port, with our own config file and a temporary storage directory.
public final class RegistryHarness: Sendable {
    public enum Auth: Sendable {
        case none
        /// htpasswd basic auth with one user (the password file is bcrypt, made by `htpasswd -B`).
        case basic(username: String, password: String)
        /// Bearer tokens from `realm`, signed by the key of `certificate` (PEM).
        case token(realm: String, service: String, issuer: String, certificate: URL)
    }

    /// `127.0.0.1:PORT`: what image references use.
    public let address: String
    public let directory: URL
    private let process: Process
    private let logFile: URL

    private init(address: String, directory: URL, process: Process, logFile: URL) {
        self.address = address
        self.directory = directory
        self.process = process
        self.logFile = logFile
    }

    /// Starts a registry and waits until it answers.
    /// - Throws: ``Prerequisites/Missing`` when `docker-registry` is not installed.
    /// - Parameter notify: a URL the registry POSTs its push notifications to (blob and pull
    ///   events left out), as an operator configures one for `slipway serve`.
    public static func start(auth: Auth = .none, notify: String? = nil) async throws -> RegistryHarness {
        try Prerequisites.require(["docker-registry"] + (auth.needsHtpasswd ? ["htpasswd"] : []))
        let directory = Scratch.location("registry")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("storage"), withIntermediateDirectories: true)
        let port = try freePort()
        var authSection = ""
        switch auth {
        case .none: break
        case .basic(let username, let password):
            let line = try await Shell.run("htpasswd", ["-Bbn", username, password])
            try line.write(to: directory.appendingPathComponent("htpasswd"), atomically: false, encoding: .utf8)
            authSection = """
                auth:
                  htpasswd:
                    realm: slipway-test
                    path: \(directory.path)/htpasswd
                """
        case .token(let realm, let service, let issuer, let certificate):
            authSection = """
                auth:
                  token:
                    realm: \(realm)
                    service: \(service)
                    issuer: \(issuer)
                    rootcertbundle: \(certificate.path)
                """
        }
        var notifications = ""
        if let notify {
            notifications = """
                notifications:
                  endpoints:
                    - name: slipway
                      url: \(notify)
                      timeout: 2s
                      threshold: 5
                      backoff: 1s
                      ignore:
                        mediatypes: [application/octet-stream]
                        actions: [pull]
                """
        }
        let config = """
            version: 0.1
            log:
              level: info
              formatter: text
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: \(directory.path)/storage
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              addr: 127.0.0.1:\(port)
            \(authSection)
            \(notifications)
            """
        let configFile = directory.appendingPathComponent("config.yml")
        try config.write(to: configFile, atomically: false, encoding: .utf8)
        let logFile = directory.appendingPathComponent("registry.log")
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        let log = try FileHandle(forWritingTo: logFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Prerequisites.path(of: "docker-registry")!)
        process.arguments = ["serve", configFile.path]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let harness = RegistryHarness(address: "127.0.0.1:\(port)", directory: directory, process: process, logFile: logFile)
        try await harness.waitUntilListening(port: port)
        return harness
    }

    /// Stops the registry (also on deinit).
    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    /// The registry's own log.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// How many requests with `method` whose URI contains `fragment` the registry served.
    public func requestCount(method: String, uriContains fragment: String) -> Int {
        log.split(separator: "\n").filter { line in
            line.contains("response completed") && line.contains("http.request.method=\(method)")
                && line.contains("http.request.uri=\"") && line.contains(fragment)
        }.count
    }

    /// Where the registry keeps a blob's bytes (to damage it on purpose).
    public func blobDataFile(hex: String) -> URL {
        directory.appendingPathComponent("storage/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data")
    }

    private func waitUntilListening(port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw Shell.Failure(description: "docker-registry exited: \(log)") }
            if Self.canConnect(port: port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Shell.Failure(description: "docker-registry did not start listening on port \(port): \(log)")
    }

    /// A port nobody listens on right now (the kernel picks it).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Shell.Failure(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw Shell.Failure(description: "bind() failed") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

extension RegistryHarness.Auth {
    var needsHtpasswd: Bool { if case .basic = self { true } else { false } }
}
