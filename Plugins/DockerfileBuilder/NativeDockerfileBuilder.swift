import Foundation
import Glibc
public import SlipwayKernel
public import SlipwayOCI
import SlipwayDockerfile
import SlipwayRuntime
import BuildContexts

/// Builds Dockerfiles without a daemon: metadata instructions edit the config, COPY and ADD
/// write layers straight from the context (no filesystem snapshot), FROM resolves bases
/// through the store or the registry and records their digests.
///
/// `RUN` executes in a container (SlipwayRuntime) over the stage's layers.
public struct NativeDockerfileBuilder: Sendable {
    public let store: ContentStore
    public let registry: RegistryClient
    var layerCache: LayerCache
    let runtime: ContainerRuntime
    let instructionCache: InstructionCache

    /// Unpacked layers and container bundles live beside the store (`<state>/layers`, `<state>/run`).
    public init(store: ContentStore, registry: RegistryClient) {
        self.store = store
        self.registry = registry
        layerCache = LayerCache(beside: store)
        instructionCache = InstructionCache(beside: store)
        runtime = ContainerRuntime(bundles: StateDirectory(of: store).run)
    }

    /// The image and the report of how it was made.
    public struct Result: Sendable {
        public var manifest: Descriptor
        public var report: BuildReport
    }

    /// - Throws: ``DockerfileError`` (file:line) for problems in the Dockerfile or its sources,
    ///   ``RegistryError``/``OCIError`` for bases that cannot be fetched.
    public func build(_ request: BuildRequest) async throws -> Result {
        let secretTexts = request.secrets.values.compactMap { String(data: $0, encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        guard !request.secretBuildArgs.isEmpty || !secretTexts.isEmpty else { return try await buildUnmasked(request) }
        let masker = SecretMasker(secrets: Array(request.secretBuildArgs.values) + secretTexts)
        var request = request
        request.buildArgs.merge(request.secretBuildArgs) { _, secret in secret }
        if let log = request.log {
            request.log = { @Sendable line in log(masker.mask(line)) }
        }
        do {
            return try await buildUnmasked(request)
        } catch var error as DockerfileError {
            error.message = masker.mask(error.message)
            throw error
        }
    }

    private func buildUnmasked(_ request: BuildRequest) async throws -> Result {
        var builder = self
        builder.layerCache = LayerCache(beside: store, limits: request.unpackLimits)
        return try await builder.buildStages(request)
    }

    private func buildStages(_ request: BuildRequest) async throws -> Result {
        let dockerfile = try request.parseDockerfile()
        let ignore = try request.ignoreRules()
        let globals = try dockerfile.globalArgValues(buildArgs: request.buildArgs, automatic: request.platformArgs)
        let target = try dockerfile.stage(named: request.target)
        for name in request.namedContexts.keys.sorted() {
            if let stage = dockerfile.stages.first(where: { $0.name == name.lowercased() }) {
                throw stage.from.failure("--build-context \(name) has the name of this stage; a named context can stand in for an image or another name, not replace a stage")
            }
        }
        // Stages run as soon as the stages they use are done; independent ones run together.
        var states: [Int: StageState] = [:]
        var pending = dockerfile.stages(neededFor: target)
        let prefixed = pending.count > 1
        while !pending.isEmpty {
            let ready = pending.filter { dockerfile.dependencies(of: $0).isSubset(of: Set(states.keys)) }
            guard !ready.isEmpty else { throw target.from.failure("the stages depend on each other in a cycle") }
            pending.removeAll { stage in ready.contains { $0.index == stage.index } }
            let done = states
            try await withThrowingTaskGroup(of: (Int, StageState).self) { group in
                for stage in ready {
                    var stageRequest = request
                    if prefixed, let log = request.log {
                        let label = stage.name ?? "stage \(stage.index)"
                        stageRequest.log = { line in log("[\(label)] \(line)") }
                    }
                    group.addTask {
                        let state = try await self.build(stage, dockerfile: dockerfile, globals: globals, request: stageRequest, ignore: ignore, states: done)
                        return (stage.index, state)
                    }
                }
                for try await (index, state) in group { states[index] = state }
            }
        }
        // Other stages' bases, then images that COPY --from read, each once.
        var buildTimeBases: [BaseImage] = []
        for (index, state) in states.sorted(by: { $0.key < $1.key }) {
            for base in (index == target.index ? [] : [state.base].compactMap { $0 }) + state.copiedFrom where !buildTimeBases.contains(base) {
                buildTimeBases.append(base)
            }
        }
        guard let final = states[target.index] else { throw target.from.failure("the target stage was not built") }
        return try finish(final, request: request, buildTimeBases: buildTimeBases)
    }

    // MARK: Stages

    /// One stage, instruction by instruction, on the finished states of the stages it uses.
    private func build(
        _ stage: Stage, dockerfile: Dockerfile, globals: [String: String], request: BuildRequest, ignore: DockerIgnore, states: [Int: StageState]
    ) async throws -> StageState {
        var scratch = Scratchpad(state: StateDirectory(of: store), limits: request.unpackLimits)
        defer { scratch.removeAll() }
        var state = try await initialState(for: stage, dockerfile: dockerfile, globals: globals, states: states, request: request)
        state.globalArgs = globals
        for instruction in stage.instructions {
            do {
                try await apply(instruction, to: &state, dockerfile: dockerfile, request: request, ignore: ignore, states: states, scratch: &scratch)
            } catch let error as LayerCache.UnpackError {
                // Say which image the refused layer belongs to, and where the Dockerfile needed it.
                let image = error.image ?? state.base.map { "the base image \($0.reference)" } ?? "this stage"
                throw instruction.failure("cannot unpack a layer of \(image)", cause: error)
            }
        }
        return state
    }

    private func initialState(
        for stage: Stage, dockerfile: Dockerfile, globals: [String: String], states: [Int: StageState], request: BuildRequest
    ) async throws -> StageState {
        let words = ShellWords(escape: dockerfile.escape, environment: globals)
        var baseText: String
        do {
            baseText = try words.word(stage.base)
        } catch {
            throw stage.from.failure("", cause: error)
        }
        let platform = try stage.platform.map { try Platform(parsing: words.word($0)) } ?? request.platform
        if baseText.lowercased() == "scratch" {
            return Self.scratchState(platform)
        }
        if let earlier = dockerfile.stages.first(where: { $0.name == baseText.lowercased() && $0.index < stage.index }), let state = states[earlier.index] {
            var copy = state
            copy.args = [:]
            copy.cmdSetHere = false
            return copy
        }
        switch request.namedContexts[baseText] {
        case .folder(let folder)?: return try await folderState(folder, for: stage.from, platform: platform, request: request)
        case .image(let reference)?: baseText = reference
        case nil: break
        }
        let reference: ImageReference
        do {
            reference = try ImageReference(parsing: baseText)
        } catch {
            throw stage.from.failure("", cause: error)
        }
        let descriptor = try await BaseResolver(store: store, registry: registry, pull: request.pullBases).resolve(reference, platform: platform, for: stage.from)
        let manifest = try store.manifest(descriptor.digest, what: "manifest of \(reference)")
        let config = try store.config(of: manifest, what: "config of \(reference)")
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw stage.from.failure("the image \(reference) lists \(manifest.layers.count) layers but \(config.rootfs.diffIDs.count) diffIDs in its config")
        }
        var state = StageState(
            config: config, layers: manifest.layers, origins: manifest.layers.map { LayerOrigin(kind: .base, digest: $0.digest.description) },
            base: BaseImage(reference: reference.description, digest: descriptor.digest.description))
        state.knownPaths = manifest.layers.isEmpty ? [:] : nil
        state.config.history = config.history
        return state
    }

    /// A stage FROM scratch: no layers, the default PATH.
    static func scratchState(_ platform: Platform) -> StageState {
        var state = StageState(config: ImageConfig(platform: platform, config: ImageConfig.ContainerConfig()), layers: [], origins: [])
        state.container.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        return state
    }

    /// `FROM NAME` where `--build-context NAME=FOLDER`: the folder's files in one layer on an
    /// empty image, as BuildKit starts such a stage.
    private func folderState(_ folder: URL, for instruction: Instruction, platform: Platform, request: BuildRequest) async throws -> StageState {
        var state = Self.scratchState(platform)
        let planner = CopyPlanner(root: folder, ignore: .none, instruction: instruction)
        let entries = try await BlockingWork.run { try planner.entries(sources: ["."], destination: "/", workdir: "/", options: CopyPlanner.Options()) }
        let layer = try await layer(of: entries, key: CacheKey("named-folder", parent: [], request: request), for: instruction, request: request)
        state.noteChanges(entries)
        state.append(layer, kind: .copy)
        return state
    }

    /// The folder `--build-context NAME=FOLDER` gives for `name`, unless a stage has that name
    /// (or index): COPY --from and RUN --mount from= read it like another stage's files.
    func namedFolder(_ name: String, in dockerfile: Dockerfile, request: BuildRequest) -> URL? {
        guard !dockerfile.stages.contains(where: { $0.name == name.lowercased() || Int(name) == $0.index }),
            case .folder(let folder)? = request.namedContexts[name]
        else { return nil }
        return folder
    }

    // MARK: Instructions

    private func apply(
        _ instruction: Instruction, to state: inout StageState, dockerfile: Dockerfile, request: BuildRequest, ignore: DockerIgnore,
        states: [Int: StageState], scratch: inout Scratchpad
    ) async throws {
        let words = state.words(escape: dockerfile.escape)
        let created = Self.timestamp(request.epoch)
        try refuseUnsupportedFlags(instruction)
        switch instruction.keyword {
        case .arg:
            for (key, value) in try instruction.keyValues(words) {
                // A build argument wins, then this ARG's default, then the global ARG of that name.
                state.args[key] = request.buildArgs[key] ?? value ?? state.globalArgs[key] ?? state.args[key] ?? ""
            }
        case .env:
            for (key, value) in try instruction.keyValues(words) { state.setEnvironment(key, value ?? "") }
        case .label:
            var labels = state.container.labels ?? [:]
            for (key, value) in try instruction.keyValues(words) { labels[key] = value ?? "" }
            state.container.labels = labels
        case .maintainer:
            state.config.author = try instruction.singleValue(words)
        case .expose:
            var ports = state.container.exposedPorts ?? [:]
            for port in try instruction.ports(words) { ports[port] = ImageConfig.Empty() }
            state.container.exposedPorts = ports
        case .user:
            state.container.user = try instruction.singleValue(words)
        case .workdir:
            let madeLayer = try await workdir(instruction, words: words, in: &state, request: request)
            state.addHistory(instruction, emptyLayer: !madeLayer, created: created)
            return
        case .stopsignal:
            state.container.stopSignal = try instruction.singleValue(words)
        case .volume:
            var volumes = state.container.volumes ?? [:]
            for path in try instruction.paths(words) { volumes[path] = ImageConfig.Empty() }
            state.container.volumes = volumes
        case .shell:
            state.shell = instruction.command(shell: [])
            state.container.shell = state.shell
        case .cmd:
            state.container.cmd = instruction.command(shell: state.shell)
            state.cmdSetHere = true
        case .entrypoint:
            state.container.entrypoint = instruction.command(shell: state.shell)
            if !state.cmdSetHere { state.container.cmd = nil }
        case .healthcheck:
            state.container.healthcheck = try healthcheck(instruction, shell: state.shell)
        case .onbuild:
            // The trigger as written after ONBUILD (whatever whitespace separated them).
            guard case .shell(let trigger) = instruction.arguments else { throw instruction.failure("ONBUILD needs an instruction") }
            state.container.onBuild = (state.container.onBuild ?? []) + [trigger]
        case .copy, .add:
            try await copy(instruction, into: &state, dockerfile: dockerfile, request: request, ignore: ignore, states: states, scratch: &scratch)
            state.addHistory(instruction, emptyLayer: false, created: created)
            return
        case .run:
            try await run(instruction, in: &state, dockerfile: dockerfile, request: request, states: states, ignore: ignore, scratch: &scratch)
            state.addHistory(instruction, emptyLayer: false, created: created)
            return
        case .from:
            break
        }
        state.addHistory(instruction, emptyLayer: true, created: created)
    }

    private func copy(
        _ instruction: Instruction, into state: inout StageState, dockerfile: Dockerfile, request: BuildRequest, ignore: DockerIgnore,
        states: [Int: StageState], scratch: inout Scratchpad
    ) async throws {
        let words = state.words(escape: dockerfile.escape)
        let (allSources, destination) = try instruction.sourcesAndDestination(words)
        var options = CopyPlanner.Options()
        // COPY --link writes a layer that does not depend on the stage below it (BuildKit copies
        // onto an empty tree, then merges): the destination's folders are not looked up in the
        // stage, and the cache key leaves the parent layers out, so the layer is reused on any
        // base. As in BuildKit, --chmod turns --link off.
        let linked = try instruction.booleanFlag("link") && instruction.flag("chmod") == nil
        if !linked {
            options.existing = pathIndex(of: state)
            options.place = destinationPlacer(of: state)
        }
        let parentLayers = linked ? [] : state.config.rootfs.diffIDs
        if let chown = instruction.flag("chown") {
            options.owner = try owner(try words.word(chown), of: state, for: instruction)
        }
        if let chmod = instruction.flag("chmod") {
            guard let mode = UInt32(try words.word(chmod), radix: 8), mode <= 0o7777 else {
                throw instruction.failure("--chmod needs an octal mode such as 0755")
            }
            options.mode = mode
        }
        // ADD of a Git repository: its files at the ref; ADD of another URL: the file as
        // downloaded (never unpacked), as Docker does.
        let gitSources = instruction.keyword == .add ? allSources.filter(Self.isGitSource) : []
        let urls = instruction.keyword == .add ? allSources.filter { $0.contains("://") && !gitSources.contains($0) } : []
        let sources = allSources.filter { !urls.contains($0) && !gitSources.contains($0) }
        if instruction.hasFlag("keep-git-dir") && gitSources.isEmpty {
            throw instruction.failure("--keep-git-dir applies to Git sources (a URL ending in .git, git://, ssh:// or user@host:path)")
        }

        var root = request.context
        var rules = ignore
        // COPY --from reads another stage's or image's layers: which files it copies is fixed by
        // their diffIDs, so the cache is asked before anything is unpacked.
        var copiedLayers: (label: String, layers: [(layer: Descriptor, diffID: Digest)])?
        let fromText: String?
        do {
            fromText = try instruction.flag("from").map { try words.word($0) }
        } catch {
            // Not silently copied from the context instead: the --from word must expand.
            throw instruction.failure("--from", cause: error)
        }
        if let from = fromText {
            if let folder = namedFolder(from, in: dockerfile, request: request) {
                root = folder
            } else {
                copiedLayers = try await layers(from: from, for: instruction, dockerfile: dockerfile, states: states, request: request, state: &state)
            }
            rules = .none
        }
        var fromKey: Digest?
        if let copiedLayers {
            var key = CacheKey("\(instruction.keyword.rawValue)-from", parent: parentLayers, request: request)
            for part in allSources + ["--to--", destination, state.container.workingDir ?? "/"] { key.add(part) }
            for flag in instruction.flags where ["exclude", "parents", "link"].contains(flag.name) { key.add("--\(flag.name)=\(flag.value ?? "")") }
            // The owner and mode as resolved (an ARG in --chown changes them, not the flag's text).
            key.add("owner \(options.owner.map { "\($0.uid):\($0.gid)" } ?? "-") mode \(options.mode.map { String($0, radix: 8) } ?? "-")")
            for heredoc in instruction.heredocs { key.add("heredoc \(heredoc.name) \(heredoc.expands) \(heredoc.content)") }
            key.add(copiedLayers.layers.map(\.diffID.description).joined(separator: ","))
            fromKey = key.finish()
            if let fromKey, let record = cached(fromKey, for: instruction, request: request) {
                try await noteCachedLayer(record, in: &state)
                state.append(record, kind: instruction.keyword == .add ? .add : .copy)
                return
            }
            root = try await scratch.rootfs(of: copiedLayers.label, layers: copiedLayers.layers, store: store)
        }
        // The planner looks the destination's folders up in the stage's layers: unpacked first, off the pool.
        if !linked { try await warmLayerCache(for: state) }
        var planner = CopyPlanner(root: root, ignore: rules, instruction: instruction)
        planner.keepsSourceOwners = copiedLayers != nil
        planner.keepsParents = try instruction.booleanFlag("parents")
        let excludes = try instruction.flags.filter { $0.name == "exclude" }.map { flag -> String in
            guard let pattern = flag.value, !pattern.isEmpty else { throw instruction.failure("--exclude needs a pattern") }
            return try words.word(pattern)
        }
        planner.exclude = DockerIgnore(excludes.joined(separator: "\n"))
        if instruction.keyword == .add && instruction.flag("from") == nil {
            planner.unpackArchives = true
            planner.scratch = try scratch.directory()
        }
        // Planning walks the sources (and may unpack archives): off the cooperative pool.
        let (plan, workdir, planOptions) = (planner, state.container.workingDir ?? "/", options)
        var entries = sources.isEmpty ? [] : try await BlockingWork.run {
            try plan.entries(sources: sources, destination: destination, workdir: workdir, options: planOptions)
        }
        for url in urls {
            entries.append(try await download(url, to: destination, instruction: instruction, state: state, options: options, scratch: &scratch))
        }
        for source in gitSources {
            let checkout = try await gitCheckout(source, for: instruction, scratch: &scratch)
            var gitPlanner = CopyPlanner(root: checkout, ignore: .none, instruction: instruction)
            gitPlanner.exclude = planner.exclude
            // The repository's files go into the destination folder, as BuildKit copies them.
            let (plan, folder) = (gitPlanner, destination.hasSuffix("/") ? destination : destination + "/")
            entries += try await BlockingWork.run { try plan.entries(sources: ["."], destination: folder, workdir: workdir, options: planOptions) }
        }
        for heredoc in instruction.heredocs {
            // Expanded as BuildKit does: variables only, quotes are the file's own text.
            var bodyWords = ShellWords(environment: words.environment)
            bodyWords.skipProcessQuotes = true
            let content: String
            do {
                content = heredoc.expands ? try bodyWords.word(heredoc.content) : heredoc.content
            } catch let failure as ShellWords.Failure {
                throw instruction.failure("heredoc <<\(heredoc.name): \(failure)")
            }
            let target = destination.hasSuffix("/") ? destination + heredoc.name : destination
            let path = DockerIgnore.cleanPath(target.hasPrefix("/") ? target : (state.container.workingDir ?? "/") + "/" + target)
            entries.append(LayerEntry(path: path, content: .bytes(Data(content.utf8)), mode: options.mode ?? 0o644,
                                      uid: options.owner?.uid ?? 0, gid: options.owner?.gid ?? 0))
        }
        let layer = try await layer(of: entries, key: CacheKey(instruction.keyword.rawValue, parent: parentLayers, request: request), for: instruction, request: request)
        if let fromKey { instructionCache.save(layer, for: fromKey) }
        state.noteChanges(entries)
        state.append(layer, kind: instruction.keyword == .add ? .add : .copy)
    }

    /// The layers `--from=NAME` names: an earlier stage's, or an image's (resolved and recorded
    /// like a base, as a build-time base). COPY --from and RUN --mount=from= both use it.
    func layers(
        from: String, for instruction: Instruction, dockerfile: Dockerfile, states: [Int: StageState], request: BuildRequest,
        state: inout StageState
    ) async throws -> (label: String, layers: [(layer: Descriptor, diffID: Digest)]) {
        if let stage = dockerfile.stages.first(where: { $0.name == from.lowercased() }) ?? Int(from).flatMap({ index in dockerfile.stages.first { $0.index == index } }) {
            guard let source = states[stage.index] else { throw instruction.failure("--from=\(from) names a later stage") }
            return ("stage \(stage.name ?? String(stage.index))", source.unpackableLayers)
        }
        // `--build-context NAME=docker-image://REF` stands in for NAME.
        let imageText: String
        if case .image(let named)? = request.namedContexts[from] { imageText = named } else { imageText = from }
        let reference: ImageReference
        do {
            reference = try ImageReference(parsing: imageText)
        } catch {
            throw instruction.failure("--from=\(from) names no earlier stage and is not an image reference", cause: error)
        }
        let descriptor = try await BaseResolver(store: store, registry: registry, pull: request.pullBases).resolve(reference, platform: request.platform, for: instruction)
        let manifest = try store.manifest(descriptor.digest, what: "manifest of \(reference)")
        let config = try store.config(of: manifest, what: "config of \(reference)")
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw instruction.failure("--from=\(from): the image \(reference) lists \(manifest.layers.count) layers but \(config.rootfs.diffIDs.count) diffIDs")
        }
        state.copiedFrom.append(BaseImage(reference: reference.description, digest: descriptor.digest.description))
        return ("the image \(reference)", Array(zip(manifest.layers, config.rootfs.diffIDs)))
    }

    /// Flags the parser knows (they are valid Dockerfile syntax) but this builder cannot carry
    /// out as asked: refused with the line, never accepted and dropped.
    private func refuseUnsupportedFlags(_ instruction: Instruction) throws {
        if instruction.keyword == .run, let security = instruction.flag("security"), security != "sandbox" {
            throw instruction.failure("--security=\(security) is not supported: RUN always runs sandboxed (use --security=sandbox or leave it out)")
        }
    }

    /// The layer of planned entries: an earlier build's when `key` (completed with the
    /// entries' identity) finds one, else written now. Owners are already set per entry (root,
    /// --chown, or the source's), so the writer keeps them.
    func layer(of entries: [LayerEntry], key: CacheKey, for instruction: Instruction, request: BuildRequest) async throws -> InstructionCache.Record {
        var key = key
        key.add(entries, context: request.context)
        let digest = key.finish()
        if let record = cached(digest, for: instruction, request: request) { return record }
        let store = self.store
        let options = LayerWriter.Options(compression: request.compression, epoch: request.epoch, keepOwnership: true)
        let progress = request.layerProgress(for: instruction)
        let written = try await streamingLayer(request, for: instruction) { tee in
            try LayerWriter(options: options).write(entries, into: store, progress: progress, tee: tee)
        }
        let record = InstructionCache.Record(layer: written.descriptor, diffID: written.diffID)
        instructionCache.save(record, for: digest)
        return record
    }

    /// Writes a layer with `write` on a Dispatch thread (hashing and compressing keep cores busy
    /// for long: off the cooperative pool), uploading it meanwhile when the request streams
    /// layers. The upload is best effort: whatever it does not complete, the push sends.
    func streamingLayer(
        _ request: BuildRequest, for instruction: Instruction,
        _ write: @escaping @Sendable (_ tee: ((UnsafeRawBufferPointer) -> Void)?) throws -> LayerWriter.Written
    ) async throws -> LayerWriter.Written {
        guard let upload = await request.streamLayers?.start(with: registry, log: request.log) else {
            return noteReuse(try await BlockingWork.run { try write(nil) }, for: instruction, request: request)
        }
        let result: LayerWriter.Written
        do {
            // Waits on the network when the registry takes bytes slower than they are made.
            result = try await BlockingWork.wait { try write { upload.send($0) } }
        } catch {
            await upload.abandon()
            throw error
        }
        if await !upload.finish(digest: result.descriptor.digest) {
            request.log?("\(instruction.location) \(instruction.name): the registry did not take layer \(result.descriptor.digest.short) while it was written; the push will send it")
        }
        return noteReuse(result, for: instruction, request: request)
    }

    /// Says in the build log how much of a new layer earlier layers' chunks spared compressing.
    private func noteReuse(_ written: LayerWriter.Written, for instruction: Instruction, request: BuildRequest) -> LayerWriter.Written {
        if written.reusedChunks > 0 {
            request.log?("\(instruction.location) \(instruction.name): \(written.reusedChunks) of \(written.reusedChunks + written.compressedChunks) compressed chunks reused")
        }
        return written
    }

    /// Later COPYs on a scratch stage need to know what a layer taken from the cache holds.
    func noteCachedLayer(_ record: InstructionCache.Record, in state: inout StageState) async throws {
        guard state.knownPaths != nil else { return }
        let layerCache = self.layerCache
        state.noteChanges(try await BlockingWork.run { try DirectoryScanner.entries(of: layerCache.unpacked(record.layer, diffID: record.diffID)) })
    }

    /// Unpacks the stage's layers into the layer cache on a Dispatch thread, so that the lookups
    /// COPY makes through them (parent folders, links, owners) find them ready instead of
    /// unpacking on the cooperative pool.
    func warmLayerCache(for state: StageState) async throws {
        guard state.knownPaths == nil, !state.layers.isEmpty else { return }
        let (layerCache, stack) = (self.layerCache, state.unpackableLayers)
        _ = try await BlockingWork.run { try layerCache.unpacked(stack: stack) }
    }

    /// An earlier build's layer for `key`, unless the build asked for none.
    func cached(_ key: Digest, for instruction: Instruction, request: BuildRequest) -> InstructionCache.Record? {
        guard !request.noCache, let record = instructionCache.lookup(key) else { return nil }
        request.log?("\(instruction.location) \(instruction.name): cached (layer \(record.layer.digest.short))")
        return record
    }

    /// `--chown` owner: numbers as given (a lone uid is also the gid, as in Docker); names from
    /// the stage's own /etc/passwd and /etc/group, found in its topmost layer that has them.
    private func owner(_ text: String, of state: StageState, for instruction: Instruction) throws -> (uid: UInt32, gid: UInt32) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard (1...2).contains(parts.count), !parts[0].isEmpty else { throw instruction.failure("--chown needs user[:group]") }
        if let uid = UInt32(parts[0]) {
            if parts.count == 1 { return (uid, uid) }
            if let gid = UInt32(parts[1]) { return (uid, gid) }
        }
        do {
            let user = try ContainerUser.resolve(
                text, passwd: try file("etc/passwd", in: state), group: try file("etc/group", in: state))
            // A named user without a group gets its primary group from /etc/passwd (BuildKit).
            return (user.uid, user.gid)
        } catch let error as RuntimeError {
            throw instruction.failure("--chown=\(text)", cause: error)
        } catch let error as RootedPathError {
            throw instruction.failure("--chown=\(text)", cause: error)
        }
    }

    /// Whether the stage has a path: from the paths this build wrote when it knows all of them
    /// (scratch-based stages), else from its layers as unpacked in the layer cache, resolved
    /// inside the stack (a symlink a base planted never reaches the host).
    func pathIndex(of state: StageState) -> @Sendable (String) throws -> LayerEntry? {
        if let known = state.knownPaths { return { known[$0] } }
        let stack = LayerStack(state.unpackableLayers, cache: layerCache)
        return { path in
            guard let found = try stack.locate(path, followingFinalLink: false) else { return nil }
            var info = stat()
            guard lstat(found.url.path, &info) == 0 else { return nil }
            var entry = LayerEntry(
                path: path, content: found.isDirectory ? .directory : .bytes(Data()), mode: UInt32(info.st_mode & 0o7777),
                uid: info.st_uid, gid: info.st_gid, modified: Int64(info.st_mtim.tv_sec))
            entry.xattrs = ExtendedAttributes.read(found.url.path)
            return entry
        }
    }

    /// Where a COPY destination lands in the stage: its parent directories resolved inside the
    /// stage (Debian's `/bin -> usr/bin` puts `COPY f /bin/f` at `usr/bin/f`, and a link a base
    /// planted cannot lead anywhere else), and the destination itself when it is a directory.
    func destinationPlacer(of state: StageState) -> @Sendable (String) throws -> (path: String, isDirectory: Bool) {
        if let known = state.knownPaths { return { ($0, known[$0]?.content == .directory) } }
        let stack = LayerStack(state.unpackableLayers, cache: layerCache)
        return { path in
            if let found = try stack.locate(path), found.isDirectory { return (try stack.resolve(path), true) }
            let (parent, name) = LayerEntry.split(path)
            let resolvedParent = try stack.resolve(parent)
            return (resolvedParent.isEmpty ? name : resolvedParent + "/" + name, false)
        }
    }

    /// A regular file of the stage, as its layers stack up, found inside the stack.
    func file(_ path: String, in state: StageState) throws -> URL? {
        try LayerStack(state.unpackableLayers, cache: layerCache).regularFile(path)
    }

    /// One URL source of ADD, downloaded into the scratch space. Mode 0600 unless --chmod, as in
    /// Docker; `--checksum=sha256:...` is verified.
    private func download(
        _ url: String, to destination: String, instruction: Instruction, state: StageState, options: CopyPlanner.Options,
        scratch: inout Scratchpad
    ) async throws -> LayerEntry {
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
            throw instruction.failure("ADD can download http(s) URLs only, not '\(url)'")
        }
        let file = try scratch.directory().appendingPathComponent(UUID().uuidString)
        let digest: Digest
        do {
            digest = try await HTTPDownload(url: url, limit: Self.addDownloadLimit).fetch(to: file)
        } catch {
            throw instruction.failure("", cause: error)
        }
        if let checksum = instruction.flag("checksum"), checksum != digest.description {
            throw instruction.failure("\(url) has checksum \(digest), not the \(checksum) that --checksum expects")
        }
        var target = destination
        if target.hasSuffix("/") {
            let path = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
            let name = path.split(separator: "/").last.map(String.init) ?? ""
            guard !name.isEmpty, !path.hasSuffix("/"), name != ".." else {
                throw instruction.failure("cannot tell a file name from \(url); give the destination a name")
            }
            target += name
        }
        let workdir = state.container.workingDir ?? "/"
        let path = DockerIgnore.cleanPath(target.hasPrefix("/") ? target : workdir + "/" + target)
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64) ?? 0
        return LayerEntry(path: path, content: .file(source: file, size: size), mode: options.mode ?? 0o600,
                          uid: options.owner?.uid ?? 0, gid: options.owner?.gid ?? 0)
    }

    /// Whether an ADD source names a Git repository (BuildKit's rule: a URL ending in `.git`,
    /// optionally with `#ref:subdir`, or the git, ssh and scp-like forms).
    static func isGitSource(_ source: String) -> Bool {
        let base = source.split(separator: "#", maxSplits: 1).first.map(String.init) ?? source
        if ["git://", "ssh://", "git+ssh://"].contains(where: base.hasPrefix) { return true }
        if base.contains("://") { return base.hasSuffix(".git") }
        return GitLocator.looksLikeGit(base)  // user@host:path
    }

    /// An ADDed repository checked out into the scratch space: the folder to copy from.
    private func gitCheckout(_ source: String, for instruction: Instruction, scratch: inout Scratchpad) async throws -> URL {
        var checkout: GitCheckout
        do {
            checkout = GitCheckout(try GitLocator(parsing: source))
        } catch {
            throw instruction.failure("", cause: error)
        }
        checkout.keepsGitDirectory = try instruction.booleanFlag("keep-git-dir")
        do {
            let folder = try scratch.directory().appendingPathComponent(UUID().uuidString)
            return URL(fileURLWithPath: try await checkout.materialize(into: folder).directory)
        } catch {
            throw instruction.failure("", cause: error)
        }
    }

    /// The largest file ADD downloads.
    static let addDownloadLimit: Int64 = 8 << 30

    private func healthcheck(_ instruction: Instruction, shell: [String]) throws -> ImageConfig.Healthcheck {
        var check = ImageConfig.Healthcheck()
        guard case .shell(let text) = instruction.arguments else { throw instruction.failure("expected NONE or CMD ...") }
        if text.uppercased() == "NONE" {
            check.test = ["NONE"]
            return check
        }
        let word = text.prefix { !$0.isWhitespace }
        let command = text.dropFirst(word.count).drop { $0.isWhitespace }
        guard word.uppercased() == "CMD" else { throw instruction.failure("expected NONE or CMD ..., not '\(word)'") }
        guard !command.isEmpty else { throw instruction.failure("HEALTHCHECK CMD needs a command") }
        if command.hasPrefix("["), let array = try? JSONDecoder().decode([String].self, from: Data(command.utf8)) {
            check.test = ["CMD"] + array
        } else {
            check.test = ["CMD-SHELL", String(command)]
        }
        func nanoseconds(_ name: String) throws -> Int64? {
            guard let value = instruction.flag(name) else { return nil }
            guard let duration = DurationText.parse(value) else { throw instruction.failure("--\(name)=\(value) is not a duration") }
            return duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        }
        check.interval = try nanoseconds("interval")
        check.timeout = try nanoseconds("timeout")
        check.startPeriod = try nanoseconds("start-period")
        check.startInterval = try nanoseconds("start-interval")
        if let retries = instruction.flag("retries") {
            guard let count = Int(retries), count >= 0 else { throw instruction.failure("--retries=\(retries) is not a count") }
            check.retries = count
        }
        return check
    }

    // MARK: Result

    private func finish(_ state: StageState, request: BuildRequest, buildTimeBases: [BaseImage]) throws -> Result {
        var config = state.config
        config.created = Self.timestamp(request.epoch)
        if !request.labels.isEmpty {
            var container = config.config ?? ImageConfig.ContainerConfig()
            container.labels = (container.labels ?? [:]).merging(request.labels) { _, given in given }
            config.config = container
        }
        let configDescriptor = try store.write(json: config, mediaType: MediaType.ociConfig)
        var annotations: [String: String] = [:]
        if let base = state.base {
            annotations[Annotation.baseName] = base.reference
            annotations[Annotation.baseDigest] = base.digest
        }
        let manifest = ImageManifest(config: configDescriptor, layers: state.layers, annotations: annotations.isEmpty ? nil : annotations)
        let descriptor = try store.write(json: manifest, mediaType: MediaType.ociManifest)
        for tag in request.tags { try store.tag(tag, descriptor) }
        let report = BuildReport(
            digest: descriptor.digest.description, mediaType: descriptor.mediaType, runtimeBase: state.base, buildTimeBases: buildTimeBases, layers: state.origins)
        return Result(manifest: descriptor, report: report)
    }

    static func timestamp(_ epoch: Int64) -> String {
        Date(timeIntervalSince1970: TimeInterval(epoch)).formatted(.iso8601)
    }
}

/// Temporary root filesystems of earlier stages and images (for COPY --from), and staging space
/// for downloads and archives, in the state directory's private scratch space; removed after
/// the build.
struct Scratchpad {
    let state: StateDirectory
    let limits: UnpackLimits
    private var roots: [String: URL] = [:]
    private var extra: URL?

    init(state: StateDirectory, limits: UnpackLimits) {
        self.state = state
        self.limits = limits
    }

    /// The files of `layers` (bottom first) flattened onto one root, each layer verified
    /// against its diffID while it is unpacked.
    /// - Parameter source: names the image or stage, for messages.
    mutating func rootfs(of source: String, layers: [(layer: Descriptor, diffID: Digest)], store: ContentStore) async throws -> URL {
        if let root = roots[source] { return root }
        let root = try state.scratchFolder("stage")
        roots[source] = root
        let limits = self.limits
        // Unpacking is long, busy work: off the cooperative pool.
        try await BlockingWork.run {
            var total: Int64 = 0
            for (layer, diffID) in layers {
                // Owners are kept (as root): COPY --from carries them over, as BuildKit does. Each
                // layer may use what the image's cap leaves, as in the layer cache.
                let (extraction, imageCapBinds) = limits.extraction(after: total, allowDevices: false)
                do {
                    total += try LayerExtractor(limits: extraction).extract(store.blobURL(layer.digest), into: root, expectedDiffID: diffID)
                        .uncompressedBytes
                } catch is LayerExtractor.SizeLimitExceeded where imageCapBinds {
                    throw LayerCache.UnpackError(layer: layer.digest, reason: limits.imageCapMessage, image: source)
                } catch {
                    throw LayerCache.UnpackError(layer: layer.digest, reason: "\(error)", image: source)
                }
            }
        }
        return root
    }

    /// A folder for staging files during the build.
    mutating func directory() throws -> URL {
        if let extra { return extra }
        let folder = try state.scratchFolder("build")
        extra = folder
        return folder
    }

    func removeAll() {
        for root in roots.values { try? FileManager.default.removeItem(at: root) }
        if let extra { try? FileManager.default.removeItem(at: extra) }
    }
}

