public import SlipwayKernel
import Foundation
import Glibc
import Logging
import SlipwayOCI
import SlipwayRuntime

/// `cmd { image = app, args = { "./test.sh" } }`: runs a container from an image reference or
/// a `build` step's image, with the run's shared `/workspace`, on the run's network, and
/// succeeds when it exits 0. With `detach = true` it is a service: started, left running for
/// the steps after it (which reach it by its step id), and stopped when the run ends.
public struct CmdStep: PluginKind, EnvironmentConsumer, DetachableStep {
    public struct Configuration: Decodable, Sendable {
        /// An image reference, or a step whose output has a `digest` (a `build`).
        public var image: ConfigValue
        public var args: [String]?
        public var entrypoint: [String]?
        public var workdir: String?
        public var user: String?
        public var network: String?
        public var alias: ConfigValue?
        public var ports: [String]?
        public var expose: [String]?
        public var privileged: Bool?
        public var pull: Bool?
        /// `{ ["/path/in/container"] = "volume-name" }`: folders of the run, shared by steps.
        public var volumes: [String: String]?
        /// `{ VARIABLE = "secret-name" }`: declared secrets given as environment variables.
        public var secretEnv: [String: String]?
        public var stopTimeout: DurationValue?
        /// Run in the image's WORKDIR rather than `/workspace` (acb's disableWorkingDirectoryOverride).
        public var imageWorkdir: Bool?
        /// `{ ["/etc/app/key"] = "contents" }`: read-only files (acr-task.yaml's secret
        /// volumes), kept out of the container's changes and removed with it.
        public var files: [String: String]?
    }

    public enum Network: String, Sendable, CaseIterable {
        case run, host, none
    }

    enum ImageSource: Sendable {
        case reference(ImageReference)
        case step(StepID)
    }

    public static let kind = "cmd"
    public static let summary = "run a container (a test, a tool, or with detach = true a service on the run network)"
    /// Where the run's shared folder appears in every container.
    public static let workspace = "/workspace"
    /// The volume name of the shared workspace (`run.shared_volume`).
    public static let sharedVolume = "workspace"

    let image: ImageSource
    let configuration: Configuration
    let network: Network
    let aliases: [String]
    let ports: [PortMapping]
    let stopGrace: Duration

    public init(configuration: Configuration) throws {
        self.configuration = configuration
        switch configuration.image {
        case .step(let id): image = .step(id)
        case .string(let text):
            do {
                image = .reference(try ImageReference(parsing: text))
            } catch {
                throw ConfigurationError(path: [.key("image")], message: "\(error)")
            }
        default:
            throw ConfigurationError(path: [.key("image")], message: "expected an image reference or a build step, got \(configuration.image.typeName)")
        }
        guard let network = Network(rawValue: configuration.network ?? "run") else {
            throw ConfigurationError(
                path: [.key("network")],
                message: "expected one of \(Network.allCases.map(\.rawValue).joined(separator: ", ")), got '\(configuration.network ?? "")'")
        }
        self.network = network
        switch configuration.alias {
        case nil, .null?: aliases = []
        case .string(let name)?: aliases = [name]
        case .array(let items)?:
            aliases = try items.enumerated().map { index, item in
                guard case .string(let name) = item else {
                    throw ConfigurationError(path: [.key("alias"), .index(index + 1)], message: "expected a host name, got \(item.typeName)")
                }
                return name
            }
        case let other?:
            throw ConfigurationError(path: [.key("alias")], message: "expected a host name or a list of them, got \(other.typeName)")
        }
        for (index, name) in aliases.enumerated() where !Self.isHostName(name) {
            throw ConfigurationError(path: [.key("alias"), .index(index + 1)], message: "'\(name)' is not a host name (letters, digits, '-', '.')")
        }
        if !aliases.isEmpty && network != .run {
            throw ConfigurationError(path: [.key("alias")], message: "aliases are names on the run network; this step has network = \"\(network.rawValue)\"")
        }
        ports = try (configuration.ports ?? []).enumerated().map { index, text in
            do {
                return try PortMapping(parsing: text)
            } catch {
                throw ConfigurationError(path: [.key("ports"), .index(index + 1)], message: "\(error)")
            }
        }
        if !ports.isEmpty && network != .run {
            throw ConfigurationError(
                path: [.key("ports")], message: "ports are published from the run network; this step has network = \"\(network.rawValue)\"")
        }
        for (index, text) in (configuration.expose ?? []).enumerated() where (try? PortMapping(parsing: text)) == nil || text.contains(":") {
            throw ConfigurationError(path: [.key("expose"), .index(index + 1)], message: "expected a port number with an optional /tcp or /udp, got '\(text)'")
        }
        for target in (configuration.files ?? [:]).keys where !target.hasPrefix("/") || target.hasSuffix("/") {
            throw ConfigurationError(path: [.key("files"), .key(target)], message: "must be an absolute file path in the container")
        }
        if configuration.workdir != nil, configuration.imageWorkdir == true {
            throw ConfigurationError(path: [.key("image_workdir")], message: "give workdir or image_workdir, not both")
        }
        if let workdir = configuration.workdir, !workdir.hasPrefix("/") {
            throw ConfigurationError(path: [.key("workdir")], message: "must be an absolute path in the container, got '\(workdir)'")
        }
        for (target, name) in configuration.volumes ?? [:] {
            guard target.hasPrefix("/"), target != "/" else {
                throw ConfigurationError(path: [.key("volumes"), .key(target)], message: "the mount point must be an absolute path below /")
            }
            guard Self.isHostName(name), !name.contains(".") else {
                throw ConfigurationError(path: [.key("volumes"), .key(target)], message: "'\(name)' is not a volume name (letters, digits, '-')")
            }
        }
        if let entrypoint = configuration.entrypoint, entrypoint.isEmpty, (configuration.args ?? []).isEmpty {
            throw ConfigurationError(path: [.key("entrypoint")], message: "an empty entrypoint needs args to run")
        }
        stopGrace = configuration.stopTimeout?.duration ?? .seconds(5)
    }

    static func isHostName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.properties.isAlphabetic || ("0"..."9").contains(first), text.count <= 63 else {
            return false
        }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "." || $0 == "_") }
    }

    public func run(in context: StepContext) async throws -> StepOutput {
        let store = try context.contentStore()
        let state = StateDirectory(of: store)
        let (digest, config, lowers) = try await resolveImage(store: store, in: context)
        let workspace = URL(fileURLWithPath: context.workDirectory).appendingPathComponent("workspace")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)

        var request = ContainerRequest(
            lowers: lowers, command: try command(from: config, step: context.stepID), environment: try environment(from: config, in: context),
            workingDirectory: configuration.workdir ?? (configuration.imageWorkdir == true ? config?.workingDir ?? "/" : Self.workspace), user: configuration.user ?? config?.user ?? "",
            network: network == .none ? .none : .host, hostname: context.stepID.rawValue)
        request.privileged = configuration.privileged ?? false
        request.runID = context.runID
        request.mounts = [ContainerMount(target: Self.workspace, source: .bind(workspace, readOnly: false))]
        for (target, name) in (configuration.volumes ?? [:]).sorted(by: { $0.key < $1.key }) {
            // `workspace` (run.shared_volume) is the shared workspace itself, under another path.
            let folder = name == Self.sharedVolume
                ? workspace : URL(fileURLWithPath: context.workDirectory).appendingPathComponent("volumes").appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            request.mounts.append(ContainerMount(target: target, source: .bind(folder, readOnly: false)))
        }
        let secrets = try secretFiles(in: context, state: state)
        request.mounts += secrets?.mounts ?? []
        let secretFolder = secrets?.folder
        // A foreground container's secrets go when it does; a service's when it is stopped.
        var keepSecrets = false
        defer { if !keepSecrets, let secretFolder { try? FileManager.default.removeItem(at: secretFolder) } }

        let containerID = "\(context.stepID.rawValue.prefix(24))-\(UUID().uuidString.prefix(8).lowercased())"
        var runNetwork: RunNetwork?
        if network == .run {
            let network = try await context.resources.shared(
                "run-network", make: { try await RunNetwork.create() }, release: { await $0.remove() })
            request.attachment = try await network.attach(
                containerID: containerID, names: [context.stepID.rawValue] + aliases, ports: ports)
            runNetwork = network
        }
        let logger = context.logger
        let runtime = ContainerRuntime(bundles: state.run)
        let container: RunningContainer
        do {
            container = try await runtime.start(request) { line in logger.info("\(line.text)") }
        } catch {
            await runNetwork?.detach(containerID: containerID)
            throw StepFailure(step: context.stepID, message: "cannot start the container: \(error)")
        }
        var fields: [String: ConfigValue] = ["image": .string(digest.description), "container": .string(container.id)]
        if let address = request.attachment?.address { fields["address"] = .string(address) }
        if !ports.isEmpty { fields["ports"] = .array(ports.map { .string($0.description) }) }
        if let expose = configuration.expose { fields["expose"] = .array(expose.map { .string($0) }) }

        if context.detach {
            // Only a service that runs is started: one that could not start fails the step. (A
            // cancel while waiting ends up here too, and kills it.)
            guard await container.waitUntilRunning() else {
                let ended: String
                do {
                    ended = "exited with status \(try await container.waitKillingOnCancel())"
                } catch {
                    ended = "\(error)"
                }
                await container.remove()
                await runNetwork?.detach(containerID: containerID)
                throw StepFailure(step: context.stepID, message: "the service did not start: \(ended)")
            }
            keepSecrets = true
            let (grace, step, network) = (stopGrace, context.stepID, runNetwork)
            try await context.resources.onRelease("service \(step)") {
                let status = await container.stop(grace: grace)
                await container.remove()
                await network?.detach(containerID: containerID)
                if let secretFolder { try? FileManager.default.removeItem(at: secretFolder) }
                logger.info("service stopped\(status.map { " (exit status \($0))" } ?? "")")
            }
            logger.info("service started as \(container.id)\(request.attachment.map { " at \($0.address)" } ?? "")")
            fields["detached"] = .bool(true)
            return StepOutput(fields)
        }

        let status: Int32
        do {
            status = try await container.waitKillingOnCancel()
        } catch {
            await container.remove()
            await runNetwork?.detach(containerID: containerID)
            throw StepFailure(step: context.stepID, message: "\(error)")
        }
        await container.remove()
        await runNetwork?.detach(containerID: containerID)
        try Task.checkCancellation()
        guard status == 0 else {
            throw StepFailure(step: context.stepID, message: "the container exited with status \(status)")
        }
        fields["exit_code"] = .int(Int64(status))
        return StepOutput(fields)
    }

    // MARK: Image

    /// The image's digest, its container configuration and its layers unpacked in the layer
    /// cache (bottom first). A reference is pulled unless the store has it for this platform
    /// (always with `pull = true`); a step's image is read from the store it was built into.
    private func resolveImage(
        store: ContentStore, in context: StepContext
    ) async throws -> (Digest, ImageConfig.ContainerConfig?, [URL]) {
        var descriptor: Descriptor
        let name: String
        switch image {
        case .step(let id):
            guard let output = context.inputs[id], case .string(let text)? = output.fields["digest"], let digest = try? Digest(parsing: text) else {
                throw StepFailure(step: context.stepID, message: "step '\(id)' produced no image to run")
            }
            guard let size = store.size(of: digest) else {
                throw StepFailure(step: context.stepID, message: "the image of step '\(id)' (\(digest)) is not in the store")
            }
            let mediaType = (output.fields["media_type"]).flatMap { if case .string(let type) = $0 { type } else { nil } } ?? MediaType.ociManifest
            descriptor = Descriptor(mediaType: mediaType, digest: digest, size: size)
            name = "step '\(id)'"
        case .reference(let reference):
            name = reference.description
            if let local = try store.taggedImage(reference), let platform = local.platform, Platform.host.matches(platform),
                configuration.pull != true
            {
                descriptor = local.descriptor
            } else {
                do {
                    descriptor = try await context.registryClient().pull(reference, platform: .host, into: store).descriptor
                } catch {
                    throw StepFailure(step: context.stepID, message: "cannot pull \(reference) from \(reference.registry): \(error)")
                }
            }
        }
        if MediaType.isIndex(descriptor.mediaType) {
            let index = try CanonicalJSON.decode(ImageIndex.self, from: try store.data(descriptor.digest), what: "index of \(name)")
            guard let entry = index.manifest(for: .host) else {
                throw StepFailure(step: context.stepID, message: "\(name) has no image for \(Platform.host)")
            }
            descriptor = entry
        }
        let manifest = try store.manifest(descriptor.digest, what: name)
        let config = try store.config(of: manifest, what: name)
        let cache = LayerCache(beside: store)
        let stack = Array(zip(manifest.layers, config.rootfs.diffIDs))
        let lowers = try await BlockingWork.run { try cache.unpacked(stack: stack) }
        return (descriptor.digest, config.config, lowers)
    }

    // MARK: Process

    /// Docker's rule: `entrypoint` replaces the image's and drops its CMD; `args` replaces CMD.
    private func command(from config: ImageConfig.ContainerConfig?, step: StepID) throws -> [String] {
        let entrypoint = configuration.entrypoint ?? config?.entrypoint ?? []
        let arguments = configuration.args ?? (configuration.entrypoint == nil ? config?.cmd ?? [] : [])
        let command = entrypoint + arguments
        guard !command.isEmpty else {
            throw StepFailure(step: step, message: "nothing to run: the image has no entrypoint or cmd; give args = { ... }")
        }
        return command
    }

    /// The image's environment, then the step's `env`, then `secret_env` (later wins).
    private func environment(from config: ImageConfig.ContainerConfig?, in context: StepContext) throws -> [String] {
        var order: [String] = []
        var values: [String: String] = [:]
        func set(_ key: String, _ value: String) {
            if values.updateValue(value, forKey: key) == nil { order.append(key) }
        }
        for entry in config?.env ?? [] {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            set(String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
        for (key, value) in context.environment.sorted(by: { $0.key < $1.key }) { set(key, value) }
        for (key, name) in (configuration.secretEnv ?? [:]).sorted(by: { $0.key < $1.key }) { set(key, try context.secret(name)) }
        return order.map { "\($0)=\(values[$0] ?? "")" }
    }

    /// Every secret the step declared, as a read-only file `/run/secrets/NAME`, and the step's
    /// `files`, from a private folder of the state directory that is removed when the container is.
    private func secretFiles(in context: StepContext, state: StateDirectory) throws -> (folder: URL, mounts: [ContainerMount])? {
        var contents: [(target: String, text: String)] = []
        for name in context.declaredSecrets { contents.append(("/run/secrets/\(name)", try context.secret(name))) }
        for (target, text) in (configuration.files ?? [:]).sorted(by: { $0.key < $1.key }) { contents.append((target, text)) }
        guard !contents.isEmpty else { return nil }
        let folder = try state.scratchFolder("cmd-secrets")
        chmod(folder.path, 0o700)
        var mounts: [ContainerMount] = []
        for (index, content) in contents.enumerated() {
            let file = folder.appendingPathComponent(String(index))
            guard FileManager.default.createFile(atPath: file.path, contents: Data(content.text.utf8), attributes: [.posixPermissions: 0o444])
            else {
                try? FileManager.default.removeItem(at: folder)
                throw StepFailure(step: context.stepID, message: "cannot write \(content.target) for the container")
            }
            mounts.append(ContainerMount(target: content.target, source: .bind(file, readOnly: true)))
        }
        return (folder, mounts)
    }
}
