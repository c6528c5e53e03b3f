import ArgumentParser
import BuildContexts
import DockerfileBuilder
import Foundation
import SlipwayKernel
import SlipwayOCI
import SlipwayRuntime

struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an image from a Dockerfile and a local context, and push it.",
        discussion: """
            The native builder runs FROM, COPY, ADD (local files), every metadata instruction, \
            and RUN in a runc container over an overlay of the stage's layers (RUN needs root). \
            Layers are reproducible: the same context gives the same digest. Prints the image digest; \
            the output of RUN steps goes to stderr.
            """)

    @Argument(help: "The build context: a folder, a Git URL (URL#ref:subdir; branch, tag, sha or pull/N/head) or an http(s) tarball URL.")
    var context: String
    @Option(name: .shortAndLong, help: "Name (and push destination) of the image; repeatable.") var tag: [String] = []
    @Option(name: .shortAndLong, help: "The Dockerfile (relative to the context).") var file: String = "Dockerfile"
    @Option(name: .customLong("build-arg"), help: ArgumentHelp("Set a build argument.", valueName: "key=value")) var buildArgs: [String] = []
    @Option(
        name: .customLong("secret-build-arg"),
        help: ArgumentHelp(
            "A build argument masked (***) in all output. Give only the key to take the value from the environment variable of that name, which keeps it out of process listings.",
            valueName: "key[=value]"))
    var secretBuildArgs: [String] = []
    @Option(help: "Build this stage (default: the last).") var target: String?
    @Option(help: "Target platform (os/arch[/variant]).") var platform: String?
    @Option(help: "Layer compression: gzip (default, readable everywhere), zstd (much faster; needs containerd 1.5+ or Docker 23+), none.")
    var compression: CompressionOption = .gzip
    @Option(help: "Network for RUN steps: host (default; downloads work) or none (loopback only).") var network: NetworkOption = .host
    @Option(help: "native (default) or buildah (the buildah command, vfs storage, chroot isolation).") var builder: BuilderOption = .native
    @Flag(help: "Build into the store only; do not push.") var noPush = false
    @Flag(help: "Make every layer anew instead of reusing what earlier builds made.") var noCache = false
    @Flag(help: "Print the build report as JSON.") var json = false
    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        if tag.isEmpty && !noPush { throw ValidationError("give at least one -t/--tag to push to, or --no-push") }
    }

    struct Output: Encodable {
        var digest: String
        var report: BuildReport
        var pushed: [String]
        /// What the context source reported: commit, branch, subdir, url, digest.
        var context: [String: String]
    }

    func run() async throws {
        try await reportingErrors {
            let references = try tag.map { try ImageReference(parsing: $0) }
            var arguments: [String: String] = [:]
            for pair in buildArgs {
                guard let (key, value) = InputError.keyValue(pair) else { throw InputError("--build-arg \(pair): expected key=value") }
                arguments[key] = value
            }
            var secrets: [String: String] = [:]
            for entry in secretBuildArgs {
                if let (key, value) = InputError.keyValue(entry) {
                    secrets[key] = value
                } else if let value = ProcessInfo.processInfo.environment[entry], !entry.isEmpty {
                    secrets[entry] = value
                } else {
                    throw InputError("--secret-build-arg \(entry): expected key=value, or the name of a set environment variable")
                }
            }
            let store = try registry.store()
            let location = try ContextLocation(parsing: context)
            let scratch = store.root.deletingLastPathComponent().appendingPathComponent("contexts/\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: scratch) }
            if case .local = location {} else { FileHandle.standardError.write(Data("fetching context \(location)\n".utf8)) }
            let materialized = try await SignalCancellation.run { try await location.materialize(scratch: scratch) }
            let client = try registry.client(for: Array(Set(references.map(\.registry))))
            var request = BuildRequest(
                context: URL(fileURLWithPath: materialized.directory), dockerfile: file, buildArgs: arguments, target: target,
                platform: try platform.map(Platform.init(parsing:)) ?? .host, tags: references.map(\.description),
                epoch: BuildRequest.epoch(for: materialized), compression: compression.layerCompression)
            request.network = network.mode
            request.noCache = noCache
            request.secretBuildArgs = secrets
            request.log = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
            // Ctrl-C cancels the build: a running RUN container is killed and cleaned up.
            let result = try await SignalCancellation.run { [request, builder] in try await builder.choice.build(request, store: store, registry: client) }
            var pushed: [String] = []
            if !noPush {
                for reference in references {
                    let report = try await client.push(result.manifest, from: store, to: reference)
                    FileHandle.standardError.write(Data("pushed \(reference): uploaded \(report.uploaded), already there \(report.skipped)\n".utf8))
                    pushed.append(reference.description)
                }
            }
            if json {
                print(try JSONOutput.render(Output(digest: result.manifest.digest.description, report: result.report, pushed: pushed, context: materialized.facts)))
            } else {
                print(result.manifest.digest)
            }
        }
    }
}

/// `--compression` values.
enum CompressionOption: String, ExpressibleByArgument, CaseIterable {
    case gzip, zstd, none

    var layerCompression: LayerCompression {
        switch self {
        case .gzip: .gzip
        case .zstd: .zstd
        case .none: .none
        }
    }
}

/// `--network` values.
enum NetworkOption: String, ExpressibleByArgument, CaseIterable {
    case host, none

    var mode: NetworkMode {
        switch self {
        case .host: .host
        case .none: .none
        }
    }
}

/// `--builder` values.
enum BuilderOption: String, ExpressibleByArgument, CaseIterable {
    case native, buildah

    var choice: BuilderChoice {
        switch self {
        case .native: .native
        case .buildah: .buildah
        }
    }
}
