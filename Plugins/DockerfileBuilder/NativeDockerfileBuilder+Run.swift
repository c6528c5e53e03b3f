import Foundation
import SlipwayDockerfile
import SlipwayKernel
import SlipwayOCI
import SlipwayRuntime

extension NativeDockerfileBuilder {
    /// RUN: the command runs in a container over the stage's layers; what it changed (the
    /// overlay's upper directory, whiteouts included) becomes the next layer, and the unpacked
    /// form goes straight into the layer cache so the next RUN need not unpack it again.
    func run(
        _ instruction: Instruction, in state: inout StageState, dockerfile: Dockerfile, request: BuildRequest, states: [Int: StageState],
        ignore: DockerIgnore, scratch: inout Scratchpad
    ) async throws {
        let (command, script) = try runCommand(instruction, state: state)
        let mountPlan = try await planMounts(
            instruction, state: &state, dockerfile: dockerfile, request: request, states: states, ignore: ignore, scratch: &scratch)
        // ARGs reach the command as environment variables (ENV wins), and are not kept in the image.
        let environment = state.args.merging(state.environment) { _, env in env }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        var container = ContainerRequest(
            lowers: [], command: command, environment: environment, workingDirectory: state.container.workingDir ?? "/",
            user: state.container.user ?? "", network: try network(for: instruction, default: request.network))

        var key = CacheKey("run", parent: state.config.rootfs.diffIDs, request: request)
        key.add(container.network.rawValue)
        key.add(container.workingDirectory)
        key.add(container.user)
        for part in command + ["--env--"] + environment { key.add(part) }
        if let script { key.add("script \(script.name) \(script.content)") }
        for part in mountPlan.keyParts { key.add(part) }
        let cacheKey = key.finish()
        if let record = cached(cacheKey, for: instruction, request: request) {
            try await noteCachedLayer(record, in: &state)
            state.append(record, kind: .run)
            return
        }

        try refuseForeignPlatform(state.config.platform, for: instruction)
        // Unpacking and, below, scanning and compressing are long, busy work: off the pool.
        let (layerCache, stack) = (self.layerCache, state.unpackableLayers)
        container.lowers = try await BlockingWork.run { try layerCache.unpacked(stack: stack) }
        container.seccomp = request.seccomp
        if let script {
            // A heredoc starting with #! runs as its own file, mounted where BuildKit puts it.
            let file = try scratch.directory().appendingPathComponent(UUID().uuidString)
            try Data(script.content.utf8).write(to: file)
            chmod(file.path, 0o755)
            container.mounts.append(ContainerMount(target: "/dev/pipes/" + script.name, source: .bind(file, readOnly: true)))
        }
        let mounts = try await prepareMounts(mountPlan, for: instruction, request: request, scratch: &scratch)
        defer { mounts.release() }
        container.mounts += mounts.mounts
        container.environment += mounts.environment
        let log = request.log
        let result: ContainerResult
        do {
            result = try await runtime.run(container) { line in log?(line.text) }
        } catch let error as RuntimeError {
            throw instruction.failure("", cause: error)
        }
        guard result.status == 0, !Task.isCancelled else {
            try? FileManager.default.removeItem(at: result.changes)
            try Task.checkCancellation()
            throw instruction.failure("the command exited with status \(result.status)", category: .failed)
        }
        let entries: [LayerEntry]
        let written: LayerWriter.Written
        do {
            let (changes, store) = (result.changes, self.store)
            let options = LayerWriter.Options(compression: request.compression, epoch: request.epoch, keepOwnership: true)
            let progress = request.layerProgress(for: instruction)
            // Scanned before the upload starts: the layer's entries are needed after it, too.
            entries = try await BlockingWork.run { try DirectoryScanner.entries(of: changes) }
            written = try await streamingLayer(request, for: instruction) { [entries] tee in
                let written = try LayerWriter(options: options).write(entries, into: store, progress: progress, tee: tee)
                try layerCache.adopt(changes, as: written.diffID)
                return written
            }
        } catch {
            try? FileManager.default.removeItem(at: result.changes)
            throw instruction.failure("cannot make a layer of what the command wrote", cause: error)
        }
        let record = InstructionCache.Record(layer: written.descriptor, diffID: written.diffID)
        instructionCache.save(record, for: cacheKey)
        state.noteChanges(entries)
        state.append(record, kind: .run)
    }

    /// A RUN executes the stage's own binaries on this host: a stage for another CPU (from
    /// `--platform` or `FROM --platform`) runs only where the kernel has an emulator registered
    /// for it (binfmt_misc, qemu-user). Without one it is refused here, clearly, instead of
    /// failing inside runc with "exec format error".
    func refuseForeignPlatform(_ platform: Platform, for instruction: Instruction) throws {
        let host = Platform.host
        guard platform.os != host.os || platform.architecture != host.architecture else { return }
        let qemu = ["arm64": "aarch64", "386": "i386", "amd64": "x86_64", "arm": "arm", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"]
        if let name = qemu[platform.architecture], FileManager.default.fileExists(atPath: "/proc/sys/fs/binfmt_misc/qemu-\(name)") { return }
        throw instruction.failure(
            "this stage is \(platform) and the host \(host), with no emulator registered for \(platform.architecture) (binfmt_misc): "
                + "RUN cannot execute its programs. Build for \(host), or run build tools in a stage FROM --platform=$BUILDPLATFORM")
    }

    /// `RUN --network=default|none|host`; default is the build's own setting.
    private func network(for instruction: Instruction, default fallback: NetworkMode) throws -> NetworkMode {
        switch instruction.flag("network") {
        case nil, "default": fallback
        case "none": .none
        case "host": .host
        case let other?: throw instruction.failure("--network=\(other): expected default, none or host")
        }
    }

    /// Exec form as written; shell form through the stage's SHELL. Heredocs as BuildKit runs
    /// them: a command that is only `<<EOF` runs the body as the shell's script (or, when the
    /// body starts with `#!`, as its own executable file); any other command gets its heredoc
    /// bodies after it, for the shell to read as real heredocs. The shell, not Slipway,
    /// expands variables in them at run time.
    private func runCommand(_ instruction: Instruction, state: StageState) throws -> (command: [String], script: (name: String, content: String)?) {
        if case .shell(let text) = instruction.arguments, let first = instruction.heredocs.first {
            if instruction.commandIsHeredoc {
                if first.content.hasPrefix("#!") {
                    guard !first.name.contains("/") else { throw instruction.failure("a heredoc script's name cannot contain '/' (<<\(first.name))") }
                    return (state.shell + ["/dev/pipes/" + first.name], (first.name, first.content))
                }
                return (state.shell + [first.content], nil)
            }
            var script = text
            for heredoc in instruction.heredocs { script += "\n" + heredoc.content + heredoc.name }
            return (state.shell + [script], nil)
        }
        let command = instruction.command(shell: state.shell)
        guard !command.isEmpty, !(command.count == state.shell.count + 1 && command.last?.isEmpty == true) else {
            throw instruction.failure("RUN needs a command")
        }
        return (command, nil)
    }
}
