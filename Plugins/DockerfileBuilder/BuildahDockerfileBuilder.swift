import Foundation
import SlipwayDockerfile
import SlipwayKernel
public import SlipwayOCI
import SlipwayRuntime

/// The same builder role through the `buildah` command: vfs storage in a temporary root of its
/// own, chroot isolation. Bases are resolved by Slipway (store, else registry), loaded into
/// buildah's storage from Slipway's store, and recorded exactly as the native builder records
/// them, so buildah builds on the very digests the report names. The result is imported into
/// the store and carries the same `org.opencontainers.image.base.*` annotations.
public struct BuildahDockerfileBuilder: Sendable {
    public let store: ContentStore
    public let registry: RegistryClient

    public init(store: ContentStore, registry: RegistryClient) {
        self.store = store
        self.registry = registry
    }

    public func build(_ request: BuildRequest) async throws -> NativeDockerfileBuilder.Result {
        // buildah 1.28 has no named contexts: refused rather than built without them.
        guard request.namedContexts.isEmpty else {
            throw BuildahFailure(description: "--build-context is not supported with the buildah builder (use the native builder)")
        }
        let dockerfile = try request.parseDockerfile()
        let arguments = request.buildArgs.merging(request.secretBuildArgs) { _, secret in secret }
        let globals = try dockerfile.globalArgValues(buildArgs: arguments, automatic: request.platformArgs)
        let target = try dockerfile.stage(named: request.target)
        let masker = SecretMasker(secrets: Array(request.secretBuildArgs.values) + request.secrets.values.compactMap { String(data: $0, encoding: .utf8) })

        // A temporary root of buildah's own. Its path is lowercase and dot-free: buildah names an
        // image pulled from an OCI layout after the layout's path.
        // Private (0700): buildah unpacks the bases in here, setuid files and all.
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-buildah-\(UUID().uuidString.lowercased())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: work) }
        let storage = ["--storage-driver", "vfs", "--root", work.appendingPathComponent("root").path,
                       "--runroot", work.appendingPathComponent("runroot").path]

        // Bases: resolved and recorded by us, handed to buildah from our store.
        var bases: [Int: BaseImage] = [:]
        for stage in dockerfile.stages(neededFor: target) {
            guard let reference = try imageBase(of: stage, in: dockerfile, globals: globals) else { continue }
            let platform = try stage.platform.map { try Platform(parsing: ShellWords(escape: dockerfile.escape, environment: globals).word($0)) }
                ?? request.platform
            let descriptor = try await BaseResolver(store: store, registry: registry, pull: request.pullBases).resolve(reference, platform: platform, for: stage.from)
            bases[stage.index] = BaseImage(reference: reference.description, digest: descriptor.digest.description)
            let layout = work.appendingPathComponent("bases/\(stage.index)")
            let exported = try ContentStore(root: layout)
            _ = try exported.importTree(descriptor, from: store)
            try exported.tag("base", descriptor)
            let id = try await buildah(storage + ["pull", "--quiet", "oci:\(layout.path):base"], request: request, masker: masker)
            try await buildah(storage + ["tag", id.trimmingCharacters(in: .whitespacesAndNewlines), reference.description], request: request, masker: masker)
        }

        var bud = storage + ["bud", "--isolation", "chroot", "--pull=false", "--quiet=false", "-f", try request.dockerfileLocation().path]
        bud += ["--network", request.network == .none ? "none" : "host", "--platform", request.platform.description]
        if let stage = request.target { bud += ["--target", stage] }
        for (key, value) in request.labels.sorted(by: { $0.key < $1.key }) { bud += ["--label", "\(key)=\(value)"] }
        if request.noCache { bud.append("--no-cache") }
        for (key, value) in request.buildArgs.sorted(by: { $0.key < $1.key }) where request.secretBuildArgs[key] == nil {
            bud += ["--build-arg", "\(key)=\(value)"]
        }
        // Secrets by name only: buildah reads the value from its environment, not its argv.
        for key in request.secretBuildArgs.keys.sorted() { bud += ["--build-arg", key] }
        // RUN --mount=type=secret: each secret in a private file of buildah's temporary root.
        for (id, data) in request.secrets.sorted(by: { $0.key < $1.key }) {
            let file = work.appendingPathComponent("secret-\(bud.count)")
            guard FileManager.default.createFile(atPath: file.path, contents: data, attributes: [.posixPermissions: 0o400]) else {
                throw BuildahFailure(description: "cannot write the secret \(id) for buildah")
            }
            bud += ["--secret", "id=\(id),src=\(file.path)"]
        }
        bud += ["-t", "localhost/slipway-build:latest", request.context.path]
        try await buildah(bud, request: request, masker: masker, environment: request.secretBuildArgs)

        let layout = work.appendingPathComponent("result")
        try await buildah(storage + ["push", "--quiet", "localhost/slipway-build:latest", "oci:\(layout.path):result"], request: request, masker: masker)
        return try importResult(from: layout, request: request, runtimeBase: baseChain(of: target, in: dockerfile, bases: bases),
                                buildTimeBases: bases.filter { $0.key != target.index }.sorted { $0.key < $1.key }.map(\.value),
                                newLayersKind: Self.squashedKind(of: target, in: dockerfile))
    }

    // MARK: Bases

    /// The image a stage starts from, or nil for scratch and for stages built on another stage.
    private func imageBase(of stage: Stage, in dockerfile: Dockerfile, globals: [String: String]) throws -> ImageReference? {
        let text: String
        do {
            text = try ShellWords(escape: dockerfile.escape, environment: globals).word(stage.base)
        } catch {
            throw stage.from.failure("", cause: error)
        }
        if text.lowercased() == "scratch" { return nil }
        if dockerfile.stages.contains(where: { $0.name == text.lowercased() && $0.index < stage.index }) { return nil }
        do {
            return try ImageReference(parsing: text)
        } catch {
            throw stage.from.failure("", cause: error)
        }
    }

    /// The final stage's base: its own image, or that of the stage it is built on.
    private func baseChain(of stage: Stage, in dockerfile: Dockerfile, bases: [Int: BaseImage]) -> BaseImage? {
        var current = stage
        while bases[current.index] == nil {
            guard let parent = dockerfile.stages.first(where: { $0.name == current.base.lowercased() && $0.index < current.index }) else { return nil }
            current = parent
        }
        return bases[current.index]
    }

    // MARK: Result

    /// What made the layer buildah squashes the build into, from the Dockerfile itself: the
    /// instructions of the target stage and of the stages it is built FROM, down to the image
    /// base. Any RUN makes it `run` (never rebased); else any ADD `add`; else `copy` (COPY,
    /// heredocs, WORKDIR folders).
    static func squashedKind(of target: Stage, in dockerfile: Dockerfile) -> LayerOrigin.Kind {
        var keywords: [Instruction.Keyword] = []
        var current: Stage? = target
        while let stage = current {
            keywords += stage.instructions.map(\.keyword)
            current = dockerfile.stages.first { $0.name == stage.base.lowercased() && $0.index < stage.index }
        }
        if keywords.contains(.run) { return .run }
        return keywords.contains(.add) ? .add : .copy
    }

    private func importResult(
        from layout: URL, request: BuildRequest, runtimeBase: BaseImage?, buildTimeBases: [BaseImage], newLayersKind: LayerOrigin.Kind
    ) throws -> NativeDockerfileBuilder.Result {
        let built = try ContentStore(root: layout)
        guard let descriptor = try built.resolve("result") else { throw OCIError.notFound("buildah's result in \(layout.path)") }
        _ = try store.importTree(descriptor, from: built)
        var manifest = try store.manifest(descriptor.digest, what: "buildah's manifest")
        let config = try store.config(of: manifest, what: "buildah's config")
        if let runtimeBase {
            var annotations = manifest.annotations ?? [:]
            annotations[Annotation.baseName] = runtimeBase.reference
            annotations[Annotation.baseDigest] = runtimeBase.digest
            manifest.annotations = annotations
        }
        let final = try store.write(json: manifest, mediaType: MediaType.ociManifest)
        for tag in request.tags { try store.tag(tag, final) }
        let report = BuildReport(
            digest: final.digest.description, mediaType: final.mediaType, runtimeBase: runtimeBase, buildTimeBases: buildTimeBases,
            layers: origins(manifest.layers, diffIDs: config.rootfs.diffIDs, base: runtimeBase, newLayersKind: newLayersKind))
        return NativeDockerfileBuilder.Result(manifest: final, report: report)
    }

    /// Layer origins from the build, not from buildah's history text: the base's own layers
    /// (the very digests Slipway resolved and handed to buildah), then what the build added.
    /// Should buildah ever add more than the one squashed layer, they are all `run`: a layer
    /// whose origin cannot be told is never one a rebase may keep.
    private func origins(_ layers: [Descriptor], diffIDs: [Digest], base: BaseImage?, newLayersKind: LayerOrigin.Kind) -> [LayerOrigin] {
        // Compared by diffID: buildah compresses the base's layers anew, so their digests change.
        var baseDiffIDs: [Digest] = []
        if let base, let digest = try? Digest(parsing: base.digest) {
            baseDiffIDs = (try? store.config(of: store.manifest(digest)).rootfs.diffIDs) ?? []
        }
        let baseCount = zip(diffIDs, baseDiffIDs).prefix { $0 == $1 }.count
        let added = layers.count - baseCount
        return layers.enumerated().map { index, layer in
            let kind: LayerOrigin.Kind = index < baseCount ? .base : added == 1 ? newLayersKind : .run
            return LayerOrigin(kind: kind, digest: layer.digest.description)
        }
    }

    @discardableResult
    private func buildah(
        _ arguments: [String], request: BuildRequest, masker: SecretMasker, environment: [String: String] = [:]
    ) async throws -> String {
        var command = ExternalCommand("buildah", arguments, environment: environment)
        command.displayName = "buildah " + (arguments.first { !$0.hasPrefix("-") && !$0.hasPrefix("/") && $0 != "vfs" } ?? "")
        if let log = request.log { command.lines = { line in log(masker.mask(line)) } }
        do {
            return try await command.run().stdout
        } catch let failure as ExternalCommand.Failure {
            throw BuildahFailure(description: masker.mask(failure.description))
        }
    }
}

/// buildah failed; the message is its own (secrets masked).
public struct BuildahFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
}
