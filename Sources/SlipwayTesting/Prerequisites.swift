public import Foundation
import Glibc
import SlipwayKernel

/// Tests that need real tools check for them and fail with a clear message, never skip
/// silently: a missing tool on CI means the set-up script is wrong.
public enum Prerequisites {
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// - Throws: ``Missing`` naming every command that is not on PATH.
    public static func require(_ commands: [String]) throws {
        let missing = commands.filter { path(of: $0) == nil }
        guard missing.isEmpty else {
            throw Missing(description: "missing prerequisites: \(missing.joined(separator: ", ")); run `make test` (Scripts/setup.sh installs them)")
        }
    }

    /// - Throws: ``Missing`` when the test process is not root (`make test` runs as root, as
    ///   rootful buildah does).
    public static func requireRoot(_ reason: String) throws {
        guard geteuid() == 0 else { throw Missing(description: "missing prerequisite: root, for \(reason); run `make test` as root") }
    }

    /// The full path of `command` on PATH, or nil.
    public static func path(of command: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        for directory in directories {
            let candidate = "\(directory)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Runs a command to completion for tests and harnesses.
public enum Shell {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// - Returns: standard output.
    /// - Throws: ``Failure`` with the command, exit status and standard error when it fails.
    @discardableResult
    public static func run(_ command: String, _ arguments: [String], in directory: URL? = nil, input: Data? = nil) async throws -> String {
        String(decoding: try await data(command, arguments, in: directory, input: input), as: UTF8.self)
    }

    public static func data(_ command: String, _ arguments: [String], in directory: URL? = nil, input: Data? = nil) async throws -> Data {
        guard let path = command.hasPrefix("/") ? command : Prerequisites.path(of: command) else {
            throw Failure(description: "\(command): not installed")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        let inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let input {
            try inPipe.fileHandleForWriting.write(contentsOf: input)
            try inPipe.fileHandleForWriting.close()
        }
        async let output = BlockingWork.run { out.fileHandleForReading.readDataToEndOfFile() }
        async let errors = BlockingWork.run { err.fileHandleForReading.readDataToEndOfFile() }
        let (stdout, stderr) = await (output, errors)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                description: "\(command) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: stderr, as: UTF8.self))")
        }
        return stdout
    }
}
