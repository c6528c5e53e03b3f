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
    @Option(
        name: .customLong("secret"),
        help: ArgumentHelp(
            "A secret for RUN --mount=type=secret,id=ID: read from a file (src=) or an environment variable (env=). It is mounted for the RUN only and never stored in the image, the cache or the logs.",
            valueName: "id=ID,src=FILE|env=VAR"))
    var secretMounts: [String] = []
    @Option(name: .customLong("label"), help: ArgumentHelp("Set a label on the image (over the Dockerfile's); repeatable.", valueName: "key=value"))
    var labels: [String] = []
    @Option(
        name: .customLong("build-context"),
        help: ArgumentHelp(
            "A named context standing in for NAME in FROM NAME, COPY --from=NAME and RUN --mount=from=NAME: a folder, a Git or tarball URL, or docker-image://REF; repeatable.",
            valueName: "name=value"))
    var buildContexts: [String] = []
    @Option(help: ArgumentHelp("Write the image ID (the digest of its config, as docker and buildah write it) to this file.", valueName: "file"))
    var iidfile: String?
    @Option(help: "Build this stage (default: the last).") var target: String?
    @Option(help: "Target platform (os/arch[/variant]).") var platform: String?
    @Option(help: "Layer compression: gzip (default, readable everywhere), zstd (much faster; needs containerd 1.5+ or Docker 23+), none.")
    var compression: CompressionOption = .gzip
    @Option(help: "Network for RUN steps: host (default; downloads work) or none (loopback only).") var network: NetworkOption = .host
    @Option(help: "native (default) or buildah (the buildah command, vfs storage, chroot isolation).") var builder: BuilderOption = .native
    @Flag(help: "Build into the store only; do not push.") var noPush = false
    @Flag(help: "Make every layer anew instead of reusing what earlier builds made.") var noCache = false
    @Flag(help: "Print the build report as JSON.") var json = false
    @Option(help: ArgumentHelp("The most one layer of a base image may unpack to (default 16GiB).", valueName: "size"))
    var maxLayerSize: String?
    @Option(help: ArgumentHelp("The most all layers of one image may unpack to (default 64GiB).", valueName: "size"))
    var maxImageSize: String?
    @Option(help: ArgumentHelp("Free space unpacking must leave on the state directory's disk (default 1GiB).", valueName: "size"))
    var minFreeSpace: String?
    @Option(
        name: .customLong("security-opt"),
        help: ArgumentHelp("seccomp=unconfined runs RUN steps without the default system-call filter. Insecure: a RUN can then create user namespaces and reach kernel interfaces the filter keeps out.", valueName: "seccomp=unconfined"))
    var securityOptions: [String] = []
    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        if tag.isEmpty && !noPush { throw ValidationError("give at least one -t/--tag to push to, or --no-push") }
        // buildah unpacks its bases and runs its steps itself: these would be dropped there.
        if builder == .buildah {
            for (flag, given) in [("--max-layer-size", maxLayerSize != nil), ("--max-image-size", maxImageSize != nil),
                                  ("--min-free-space", minFreeSpace != nil), ("--security-opt", !securityOptions.isEmpty),
                                  ("--build-context", !buildContexts.isEmpty)] where given {
                throw ValidationError("\(flag) applies to the native builder only, not to --builder buildah")
            }
        }
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
            let contexts = StateDirectory(of: store).contexts
            try FileManager.default.createDirectory(at: contexts, withIntermediateDirectories: true)
            let scratch = contexts.appendingPathComponent(UUID().uuidString)
            defer { try? FileManager.default.removeItem(at: scratch) }
            if case .local = location {} else { FileHandle.standardError.write(Data("fetching context \(location)\n".utf8)) }
            let materialized = try await SignalCancellation.run { try await location.materialize(scratch: scratch) }
            let named = try await namedContexts(scratch: scratch)
            let client = try registry.client(for: Array(Set(references.map(\.registry))))
            var request = BuildRequest(
                context: URL(fileURLWithPath: materialized.directory), dockerfile: file, buildArgs: arguments, target: target,
                platform: try platform.map(Platform.init(parsing:)) ?? .host, tags: references.map(\.description),
                epoch: BuildRequest.epoch(for: materialized, sourceDateEpoch: BuildRequest.sourceDateEpoch(in: ProcessInfo.processInfo.environment)),
                compression: compression.layerCompression)
            request.network = network.mode
            request.noCache = noCache
            request.secretBuildArgs = secrets
            request.secrets = try secretValues()
            request.unpackLimits = try unpackLimits()
            request.seccomp = try seccompProfile()
            request.namedContexts = named
            for pair in labels {
                guard let (key, value) = InputError.keyValue(pair) else { throw InputError("--label \(pair): expected key=value") }
                request.labels[key] = value
            }
            request.log = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
            // Ctrl-C cancels the build: a running RUN container is killed and cleaned up.
            let result = try await SignalCancellation.run { [request, builder] in try await builder.choice.build(request, store: store, registry: client) }
            if let iidfile {
                let config = try store.manifest(result.manifest.digest).config.digest
                do {
                    try Data(config.description.utf8).write(to: URL(fileURLWithPath: iidfile))
                } catch {
                    throw InputError("--iidfile \(iidfile): cannot write it: \(error.localizedDescription)")
                }
            }
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

extension BuildCommand {
    /// `--max-layer-size`, `--max-image-size` and `--min-free-space`, over the defaults.
    func unpackLimits() throws -> UnpackLimits {
        var limits = UnpackLimits()
        func size(_ text: String?, _ flag: String) throws -> Int64? {
            guard let text else { return nil }
            guard let bytes = ByteCountText.parse(text) else { throw InputError("--\(flag) \(text): expected a size such as 512MiB or 2GiB") }
            return bytes
        }
        if let bytes = try size(maxLayerSize, "max-layer-size") { limits.maxLayerBytes = bytes }
        if let bytes = try size(maxImageSize, "max-image-size") { limits.maxImageBytes = bytes }
        if let bytes = try size(minFreeSpace, "min-free-space") { limits.freeSpaceReserve = bytes }
        return limits
    }

    /// `--build-context NAME=VALUE`: `docker-image://REF` names an image; anything else is a
    /// context locator (folder, Git, tarball), fetched into `scratch` like the main context.
    func namedContexts(scratch: URL) async throws -> [String: NamedContext] {
        var contexts: [String: NamedContext] = [:]
        for entry in buildContexts {
            guard let (name, value) = InputError.keyValue(entry), !value.isEmpty else {
                throw InputError("--build-context \(entry): expected name=folder, name=URL or name=docker-image://REF")
            }
            guard contexts[name] == nil else { throw InputError("--build-context \(name) is given twice") }
            if value.hasPrefix("docker-image://") {
                let reference = String(value.dropFirst("docker-image://".count))
                do {
                    _ = try ImageReference(parsing: reference)
                } catch {
                    throw InputError("--build-context \(entry): \(error)")
                }
                contexts[name] = .image(reference)
                continue
            }
            for scheme in ["oci-layout://", "target:", "input:"] where value.hasPrefix(scheme) {
                throw InputError("--build-context \(entry): \(scheme) contexts are not supported (give a folder, a Git or tarball URL, or docker-image://REF)")
            }
            let location = try ContextLocation(parsing: value)
            let folder = scratch.appendingPathComponent("named-\(contexts.count)")
            let materialized = try await SignalCancellation.run { try await location.materialize(scratch: folder) }
            contexts[name] = .folder(URL(fileURLWithPath: materialized.directory))
        }
        return contexts
    }

    /// `--secret id=ID,src=FILE`, `--secret id=ID,env=VAR` (buildx's forms; `type=file|env`
    /// may name the kind, and `id` alone means the variable or file of that name).
    func secretValues() throws -> [String: Data] {
        var values: [String: Data] = [:]
        for entry in secretMounts {
            var fields: [String: String] = [:]
            for field in entry.split(separator: ",") {
                guard let (key, value) = InputError.keyValue(String(field)) else { throw InputError("--secret \(entry): expected id=ID,src=FILE or id=ID,env=VAR") }
                guard ["id", "src", "source", "env", "type"].contains(key) else { throw InputError("--secret \(entry): unknown field '\(key)' (id, src, env, type)") }
                fields[key] = value
            }
            guard let id = fields["id"], !id.isEmpty else { throw InputError("--secret \(entry): needs id=") }
            let file = fields["src"] ?? fields["source"]
            let variable = fields["env"]
            if let kind = fields["type"], kind != "file", kind != "env" { throw InputError("--secret \(entry): type=\(kind): expected file or env") }
            if file != nil && variable != nil { throw InputError("--secret \(entry): give either src=FILE or env=VAR, not both") }
            if let file = file ?? (fields["type"] == "file" ? id : nil) {
                guard let data = FileManager.default.contents(atPath: file) else { throw InputError("--secret \(entry): cannot read \(file)") }
                values[id] = data
            } else {
                let name = variable ?? id
                guard let value = ProcessInfo.processInfo.environment[name] else { throw InputError("--secret \(entry): the variable \(name) is not set") }
                values[id] = Data(value.utf8)
            }
        }
        return values
    }

    /// The filter RUN gets: the default, or none for `--security-opt seccomp=unconfined`. Any
    /// other security option is refused rather than dropped.
    func seccompProfile() throws -> SeccompProfile? {
        var profile: SeccompProfile? = .buildDefault
        for option in securityOptions {
            guard option == "seccomp=unconfined" else {
                throw InputError("--security-opt \(option): the only security option is seccomp=unconfined")
            }
            profile = nil
            FileHandle.standardError.write(Data("slipway: warning: RUN steps run without a seccomp filter (--security-opt seccomp=unconfined)\n".utf8))
        }
        return profile
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
