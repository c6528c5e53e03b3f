public import Foundation
import Glibc
import SlipwayKernel

/// Runs a host tool (`git`, `buildah`) to completion: output captured off the cooperative
/// pool, cancellation kills the tool, and failures reported with the tool's own words.
public struct ExternalCommand: Sendable {
    public var executable: String
    public var arguments: [String]
    /// Added to (and overriding) this process's environment.
    public var environment: [String: String] = [:]
    public var directory: URL?
    /// How the command is shown in errors and logs, when the arguments hold something secret.
    public var displayName: String?
    /// Receives output lines (both streams) as they arrive.
    public var lines: (@Sendable (String) -> Void)?
    /// Written to the tool's standard input, which is then closed (nil: `/dev/null`).
    public var input: Data?

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.directory = directory
    }

    /// What the tool printed, one line per line (without the last newline).
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var command: String
        public var status: Int32
        public var stderr: String
        public var description: String {
            let detail = stderr.split(separator: "\n").suffix(5).joined(separator: "\n")
            return "\(command) exited with status \(status)" + (detail.isEmpty ? "" : ": \(detail)")
        }
    }

    /// - Throws: ``RuntimeError/unavailable(_:)`` when the tool is not installed, ``Failure`` when it
    ///   exits non-zero, `CancellationError` when cancelled.
    @discardableResult
    public func run() async throws -> Output {
        let output = try await runAllowingFailure()
        guard output.status == 0 else {
            throw Failure(command: displayName ?? ([executable] + arguments).joined(separator: " "), status: output.status, stderr: output.stderr)
        }
        return output
    }

    public func runAllowingFailure() async throws -> Output {
        guard let path = ContainerRuntime.executablePath(executable) else {
            throw RuntimeError.unavailable("'\(executable)' is not installed (Scripts/setup.sh lists what Slipway needs)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = input.map { _ in Pipe() }
        process.standardInput = stdin ?? FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let (stdout, stderr) = await withTaskCancellationHandler {
            let lines = lines
            let each: @Sendable (String) -> Bool = { line in
                lines?(line)
                return true
            }
            // Written while the output is read, so neither side waits on a full pipe.
            async let written: Void = BlockingWork.wait { [input] in
                guard let stdin, let input else { return }
                stdin.fileHandleForWriting.write(input)
                try? stdin.fileHandleForWriting.close()
            }
            async let stdout = PipeLines.read(out.fileHandleForReading, each: each)
            async let stderr = PipeLines.read(err.fileHandleForReading, each: each)
            _ = await written
            return await (stdout, stderr)
        } onCancel: {
            // SIGKILL, not SIGTERM: the child may have inherited a signal mask that blocks SIGTERM.
            kill(pid, SIGKILL)
        }
        await BlockingWork.wait { process.waitUntilExit() }
        try Task.checkCancellation()
        return Output(status: process.terminationStatus, stdout: stdout.joined(separator: "\n"), stderr: stderr.joined(separator: "\n"))
    }
}
