public import Foundation
import Glibc
import SlipwayKernel

/// Runs a built executable (the `slipway` CLI) the way a user would, capturing its output.
public struct CommandRunner: Sendable {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    public let executable: URL

    public init(executable: URL) { self.executable = executable }

    /// The `slipway` binary next to the running test bundle (`swift build` puts both in the
    /// same folder).
    public static func slipway() -> CommandRunner {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return CommandRunner(executable: folder.appendingPathComponent("slipway"))
    }

    /// Runs with `arguments` in `directory`, waiting for exit. Output is read concurrently so a
    /// chatty process cannot fill a pipe and stall.
    /// - Parameters:
    ///   - interruptWhenStderrContains: send `signal` (SIGINT, as Ctrl-C would) once stderr
    ///     shows this text.
    ///   - signal: what to send; SIGKILL stands for a crash.
    public func run(
        _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:],
        interruptWhenStderrContains marker: String? = nil, signal: Int32 = SIGINT
    ) async throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        async let stdout = BlockingWork.run { out.fileHandleForReading.readDataToEndOfFile() }
        async let stderr = BlockingWork.run { () -> Data in
            var collected = Data()
            var interrupted = false
            while true {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { return collected }
                collected.append(chunk)
                if let marker, !interrupted, String(decoding: collected, as: UTF8.self).contains(marker) {
                    interrupted = true
                    kill(process.processIdentifier, signal)
                }
            }
        }
        let (o, e) = await (stdout, stderr)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}
