import ArgumentParser
import BuildContexts
import DockerfileBuilder
import Foundation
import SlipwayEngine
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
    @Option(help: "The builder kind: native (default) or buildah (the buildah command, vfs storage, chroot isolation); `slipway plugins` lists them.")
    var builder = NativeBuilder.kind
    @Flag(help: "Build into the store only; do not push.") var noPush = false
    @Flag(
        inversion: .prefixedNo,
        help: "Upload each layer to the first tag's repository while it is written (default with a push and the native builder). It saves the upload's time but sends a layer the registry may already have; --no-stream-layers leaves every upload to the push, which skips those.")
    var streamLayers: Bool?
    @Flag(help: "Make every layer anew instead of reusing what earlier builds made.") var noCache = false
    @Flag(help: "Print the build report as JSON.") var json = false
    @Option(help: "How the build's events reach stderr: auto (tty on a terminal, else plain), tty (a live view of the running steps), plain (timestamped lines) or json (one event per line; Docs/Events.md).")
    var progress: ProgressMode = .auto
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
        if streamLayers == true && noPush { throw ValidationError("--stream-layers uploads layers for the push: drop --no-push, or --stream-layers") }
        // Checked here too, so the error names the flag rather than the build step's key.
        if let platform {
            do { _ = try Platform(parsing: platform) } catch { throw ValidationError("--platform \(platform): \(error)") }
        }
        for (flag, text) in [("--max-layer-size", maxLayerSize), ("--max-image-size", maxImageSize), ("--min-free-space", minFreeSpace)] {
            if let text, ByteCountText.parse(text) == nil { throw ValidationError("\(flag) \(text): expected a size such as 512MiB or 2GiB") }
        }
        for entry in buildContexts {
            if let refusal = NamedContext.refusal(of: InputError.keyValue(entry)?.value ?? "") {
                throw ValidationError("--build-context \(entry): \(refusal)")
            }
        }
        // A builder that cannot honour a flag (buildah unpacks and runs by itself) refuses it.
        let registry = try BuiltinPlugins.registry()
        let kinds = registry.kinds(for: .builder)
        guard kinds.contains(builder),
              let found = try? registry.instantiate(builder, configuration: .object([:])) as? any DockerfileBuilding
        else { throw ValidationError("--builder \(builder): expected one of \(kinds.joined(separator: ", "))") }
        for (key, flag, given) in [("max_layer_size", "--max-layer-size", maxLayerSize != nil), ("max_image_size", "--max-image-size", maxImageSize != nil),
                                   ("min_free_space", "--min-free-space", minFreeSpace != nil), ("seccomp", "--security-opt", !securityOptions.isEmpty),
                                   ("build_contexts", "--build-context", !buildContexts.isEmpty), ("stream_layers", "--stream-layers", streamLayers == true)]
        where given && found.unsupportedKeys.contains(key) {
            throw ValidationError("\(flag) is not honoured by --builder \(builder) (the native builder honours it)")
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
            var secrets: [String: String] = [:]
            let pipeline = try buildPipeline(references: references, secrets: &secrets)
            // What the steps work with: this command's store, one client for its registries.
            var services = HostServices()
            let store = try registry.store()
            await registry.host.sweepLeftovers()
            services.contentStore = store
            services.registryClient = try registry.client(for: Array(Set(references.map(\.registry))))
            services.sourceDateEpoch = BuildRequest.sourceDateEpoch(in: ProcessInfo.processInfo.environment)
            let history = RunHistory.recorder(in: registry.host.stateDirectory)
            let runner = PipelineRunner(
                registry: try BuiltinPlugins.registry(),
                options: RunOptions(maxConcurrency: 1, secrets: secrets, observers: [progress.observer(), history], services: services))
            // Ctrl-C cancels the build: a running RUN container is killed and cleaned up.
            let report = try await SignalCancellation.run { try await runner.run(pipeline, info: RunInfo(id: RunID.make())) }
            await RunHistory.finish(history)
            guard report.status == .succeeded, let built = report.step(StepID("build"))?.output?.fields,
                case .string(let digestText)? = built["digest"]
            else {
                throw BuildFailure(report: report)
            }
            let digest = try Digest(parsing: digestText)
            if let iidfile {
                let config = try store.manifest(digest).config.digest
                do {
                    try Data(config.description.utf8).write(to: URL(fileURLWithPath: iidfile))
                } catch {
                    throw InputError("--iidfile \(iidfile): cannot write it: \(error.localizedDescription)")
                }
            }
            if json {
                let decoder = JSONDecoder()
                decoder.keyDecodingStrategy = .convertFromSnakeCase
                let buildReport = try decoder.decode(BuildReport.self, from: JSONEncoder().encode(built["report"] ?? .null))
                var pushed: [String] = []
                if case .array(let items)? = report.step(StepID("push"))?.output?.fields["pushed"] {
                    pushed = items.compactMap { if case .string(let text) = $0 { text } else { nil } }
                }
                var facts: [String: String] = [:]
                if case .object(let fields)? = built["context"] {
                    for (key, value) in fields { if case .string(let text) = value { facts[key] = text } }
                }
                print(try JSONOutput.render(Output(digest: digest.description, report: buildReport, pushed: pushed, context: facts)))
            } else {
                print(digest)
            }
        }
    }

    /// The quick build as a pipeline: a `build` step and, unless --no-push, a `push` step, run
    /// by the engine like any recipe (events, --progress, cancellation). Secret values go into
    /// `secrets`, the run's secrets, which the steps declare and every event masks.
    func buildPipeline(references: [ImageReference], secrets: inout [String: String]) throws -> PipelineDefinition {
        var configuration: [String: ConfigValue] = [
            "context": .string(context), "file": .string(file), "tags": .array(references.map { .string($0.description) }),
            "compression": .string(compression.rawValue), "network": .string(network.rawValue), "no_cache": .bool(noCache),
            "builder": .string(builder),
        ]
        // The push follows: layers start on their way while they are written (the native builder;
        // buildah refuses the key, so --stream-layers with it is refused, never dropped).
        if streamLayers ?? (!noPush && builder == NativeBuilder.kind) { configuration["stream_layers"] = .bool(true) }
        var arguments: [String: ConfigValue] = [:]
        for pair in buildArgs {
            guard let (key, value) = InputError.keyValue(pair) else { throw InputError("--build-arg \(pair): expected key=value") }
            arguments[key] = .string(value)
        }
        configuration["build_args"] = .object(arguments)
        var secretArguments: [ConfigValue] = []
        for entry in secretBuildArgs {
            if let (key, value) = InputError.keyValue(entry) {
                secrets[key] = value
                secretArguments.append(.string(key))
            } else if let value = ProcessInfo.processInfo.environment[entry], !entry.isEmpty {
                secrets[entry] = value
                secretArguments.append(.string(entry))
            } else {
                throw InputError("--secret-build-arg \(entry): expected key=value, or the name of a set environment variable")
            }
        }
        configuration["secret_build_args"] = .array(secretArguments)
        let (mounts, files) = try secretMountSources(into: &secrets)
        configuration["secret_mounts"] = .object(mounts.mapValues { .string($0) })
        configuration["secret_files"] = .object(files.mapValues { .string($0) })
        var labelValues: [String: ConfigValue] = [:]
        for pair in labels {
            guard let (key, value) = InputError.keyValue(pair) else { throw InputError("--label \(pair): expected key=value") }
            labelValues[key] = .string(value)
        }
        configuration["labels"] = .object(labelValues)
        var named: [String: ConfigValue] = [:]
        for entry in buildContexts {
            guard let (name, value) = InputError.keyValue(entry), !value.isEmpty else {
                throw InputError("--build-context \(entry): expected name=folder, name=URL or name=docker-image://REF")
            }
            guard named[name] == nil else { throw InputError("--build-context \(name) is given twice") }
            named[name] = .string(value)
        }
        configuration["build_contexts"] = .object(named)
        if let target { configuration["target"] = .string(target) }
        if let platform { configuration["platform"] = .string(platform) }
        if let maxLayerSize { configuration["max_layer_size"] = .string(maxLayerSize) }
        if let maxImageSize { configuration["max_image_size"] = .string(maxImageSize) }
        if let minFreeSpace { configuration["min_free_space"] = .string(minFreeSpace) }
        if try !isSeccompConfined() { configuration["seccomp"] = .string("unconfined") }

        let location = SourceLocation(file: "slipway build", line: 0)
        var options = StepOptions()
        options.secrets = secrets.keys.sorted()
        var steps = [StepDefinition(id: StepID("build"), kind: "build", configuration: .object(configuration), options: options, location: location)]
        if !noPush {
            steps.append(StepDefinition(
                id: StepID("push"), kind: "push", configuration: .object(["inputs": .array([.step(StepID("build"))])]),
                dependencies: [StepID("build")], location: location))
        }
        return PipelineDefinition(name: "build", steps: steps, location: location)
    }
}

/// A quick build that did not succeed: says why, with the failing step's kind of failure
/// deciding the exit status (a bad Dockerfile is invalid input, a failing RUN a failure).
struct BuildFailure: CategorizedError, CustomStringConvertible {
    var report: RunReport

    var failed: StepResult? { report.steps.first { $0.status == .failed || $0.status == .timedOut } }
    var category: ErrorCategory { report.status == .canceled ? .failed : failed?.errorCategory ?? .failed }
    var description: String {
        if report.status == .canceled { return "cancelled" }
        return failed?.failure ?? report.failure ?? "the build \(report.status.rawValue)"
    }
}

extension BuildCommand {
    /// `--secret id=ID,src=FILE`, `--secret id=ID,env=VAR` (buildx's forms; `type=file|env`
    /// may name the kind, and `id` alone means the variable or file of that name): files by
    /// path (read by the build), variables as run secrets (`secret-mount:ID`, masked in events).
    /// - Returns: the mount id → run secret name, and the mount id → file path.
    func secretMountSources(into secrets: inout [String: String]) throws -> (mounts: [String: String], files: [String: String]) {
        var mounts: [String: String] = [:]
        var files: [String: String] = [:]
        for entry in secretMounts {
            let secret: SecretOption
            do {
                secret = try SecretOption(parsing: entry)
            } catch let invalid as SecretOption.Invalid {
                throw InputError("--secret \(entry): \(invalid.reason)")
            }
            // `id` alone: the variable of that name, as buildx has it.
            switch secret.source ?? .variable(secret.id) {
            case .file(let file):
                guard FileManager.default.isReadableFile(atPath: file) else { throw InputError("--secret \(entry): cannot read \(file)") }
                files[secret.id] = URL(fileURLWithPath: file).path
            case .variable(let name):
                guard let value = ProcessInfo.processInfo.environment[name] else { throw InputError("--secret \(entry): the variable \(name) is not set") }
                secrets["secret-mount:\(secret.id)"] = value
                mounts[secret.id] = "secret-mount:\(secret.id)"
            }
        }
        return (mounts, files)
    }

    /// Whether RUN gets the default system-call filter: yes, unless `--security-opt
    /// seccomp=unconfined` (with a warning). Any other security option is refused, not dropped.
    func isSeccompConfined() throws -> Bool {
        var confined = true
        for option in securityOptions {
            guard option == "seccomp=unconfined" else {
                throw InputError("--security-opt \(option): the only security option is seccomp=unconfined")
            }
            confined = false
            FileHandle.standardError.write(Data("slipway: warning: RUN steps run without a seccomp filter (--security-opt seccomp=unconfined)\n".utf8))
        }
        return confined
    }
}

/// `--compression` values.
enum CompressionOption: String, ExpressibleByArgument, CaseIterable {
    case gzip, zstd, none
}

/// `--network` values.
enum NetworkOption: String, ExpressibleByArgument, CaseIterable {
    case host, none
}
