public import Foundation
import AsyncHTTPClient
import Glibc
import SlipwayKernel
import NIOCore
import NIOHTTP1

/// A real `slipway serve` process for a test: its own state directory, a free loopback port,
/// stderr kept in a log file. It can be stopped with SIGTERM, killed with SIGKILL (a crash),
/// and started again on the same state and port.
public final class ServeHarness: @unchecked Sendable {
    /// `http://127.0.0.1:PORT`.
    public private(set) var url: String
    public let state: URL
    public let port: Int
    private let arguments: [String]
    private let environment: [String: String]
    private var process: Process?
    private let logFile: URL
    private let lock = NSLock()

    /// Starts `slipway serve --state-dir … --listen 127.0.0.1:PORT` plus `arguments`, and waits
    /// until it says it listens.
    public static func start(_ arguments: [String] = [], environment: [String: String] = [:], state: URL? = nil) async throws -> ServeHarness {
        let state = try state ?? Scratch.directory("serve-state")
        let harness = ServeHarness(port: try RegistryHarness.freePort(), state: state, arguments: arguments, environment: environment)
        try await harness.launch()
        return harness
    }

    private init(port: Int, state: URL, arguments: [String], environment: [String: String]) {
        self.port = port
        self.state = state
        self.arguments = arguments
        self.environment = environment
        url = "http://127.0.0.1:\(port)"
        logFile = state.deletingLastPathComponent().appendingPathComponent("serve-\(port)-\(UUID().uuidString.prefix(6)).log")
    }

    /// The server's log, every start appended.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Starts the process (again, after ``stop(signal:)``), on the same state and port.
    public func launch() async throws {
        if !FileManager.default.fileExists(atPath: logFile.path) { _ = FileManager.default.createFile(atPath: logFile.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: logFile)
        handle.seekToEndOfFile()
        let process = Process()
        process.executableURL = CommandRunner.slipway().executable
        process.arguments = ["serve", "--state-dir", state.path, "--listen", "127.0.0.1:\(port)"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        let before = log.components(separatedBy: "listening on").count
        try process.run()
        lock.withLock { self.process = process }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw Shell.Failure(description: "slipway serve exited (\(process.terminationStatus)): \(log)") }
            if log.components(separatedBy: "listening on").count > before { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw Shell.Failure(description: "slipway serve did not start listening: \(log)")
    }

    /// Sends `signal` and waits for the process to exit. - Returns: its exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) async -> Int32 {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return 0 }
        kill(process.processIdentifier, signal)
        await BlockingWork.run { process.waitUntilExit() }
        return process.terminationStatus
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    // MARK: The API

    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var text: String { String(decoding: body, as: UTF8.self) }
        public func json() throws -> Any { try JSONSerialization.jsonObject(with: body) }
    }

    /// One HTTP request to the server.
    public func request(_ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil) async throws -> Response {
        var request = HTTPClientRequest(url: url + path)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return Response(status: Int(response.status.code), body: Data(try await response.body.collect(upTo: 16 << 20).readableBytesView))
    }

    /// Polls `condition` until it holds or `timeout` passes.
    public func wait(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Shell.Failure(description: "timed out waiting for \(what); server log:\n\(log)")
    }

    /// The server's runs (newest first), as JSON objects.
    public func runs(task: String? = nil) async throws -> [[String: Any]] {
        let response = try await request("GET", "/api/v1/runs" + (task.map { "?task=\($0)" } ?? ""))
        guard response.status == 200, let runs = try response.json() as? [[String: Any]] else {
            throw Shell.Failure(description: "GET /api/v1/runs: \(response.status) \(response.text)")
        }
        return runs
    }
}
