import Crypto
import Foundation
import Glibc
import SlipwayDockerfile
import SlipwayKernel
import SlipwayOCI
import SlipwayRuntime

/// `RUN --mount`: what each mount adds to the RUN's cache key is known before anything is
/// prepared, so a cached RUN prepares nothing; after a miss the mounts are made ready (bind
/// sources copied out, caches locked, secrets written to private files) and are taken down
/// when the RUN ends. Nothing under a mount ever reaches the layer.
struct RunMountPlan {
    struct Planned {
        var mount: RunMount
        /// bind: where the files come from; nil for the other kinds.
        var bind: BindSource?
    }

    enum BindSource {
        /// Files of the build context, already planned (their identity is in the key).
        case context(entries: [LayerEntry], isFile: Bool)
        /// A path in a stage's or image's layers, unpacked only when the RUN really runs.
        case layers(label: String, layers: [(layer: Descriptor, diffID: SlipwayOCI.Digest)], path: String)
    }

    var planned: [Planned] = []
    /// Parts of the RUN's cache key: the mounts as written and the identity of bound files,
    /// never a cache's or a secret's content.
    var keyParts: [String] = []
}

/// Mounts made ready for one RUN, and what must be released after it.
struct PreparedRunMounts {
    var mounts: [ContainerMount] = []
    /// `NAME=value` of secrets exposed as variables: passed to the process, never in the key.
    var environment: [String] = []
    var folders: [URL] = []
    var locks: [Int32] = []

    func release() {
        for descriptor in locks { close(descriptor) }
        for folder in folders { try? FileManager.default.removeItem(at: folder) }
    }
}

extension NativeDockerfileBuilder {
    func planMounts(
        _ instruction: Instruction, state: inout StageState, dockerfile: Dockerfile, request: BuildRequest, states: [Int: StageState],
        ignore: DockerIgnore, scratch: inout Scratchpad
    ) async throws -> RunMountPlan {
        var plan = RunMountPlan()
        let words = state.words(escape: dockerfile.escape)
        for flag in instruction.flags where flag.name == "mount" {
            let mount: RunMount
            do {
                mount = try RunMount.parse(flag.value ?? "") { try words.word($0) }
            } catch {
                throw instruction.failure("--mount=\(flag.value ?? "")", cause: error)
            }
            var planned = RunMountPlan.Planned(mount: mount)
            plan.keyParts.append(
                "mount \(mount.kind.rawValue) \(mount.target) id=\(mount.id) ro=\(mount.readOnly) from=\(mount.from ?? "-") "
                    + "source=\(mount.source ?? "-") mode=\(mount.mode.map { String($0, radix: 8) } ?? "-") "
                    + "owner=\(mount.uid.map(String.init) ?? "-"):\(mount.gid.map(String.init) ?? "-") size=\(mount.size.map(String.init) ?? "-") "
                    + "sharing=\(mount.sharing.rawValue) env=\(mount.environment ?? "-")")
            switch mount.kind {
            case .bind:
                let path = mount.source ?? "/"
                let folder = mount.from.flatMap { namedFolder($0, in: dockerfile, request: request) }
                if let from = mount.from, folder == nil {
                    // The layers' diffIDs fix what is bound: nothing is unpacked for a cached RUN.
                    let source = try await layers(from: from, for: instruction, dockerfile: dockerfile, states: states, request: request, state: &state)
                    plan.keyParts.append("bound \(path) of " + source.layers.map(\.diffID.description).joined(separator: ","))
                    planned.bind = .layers(label: source.label, layers: source.layers, path: path)
                } else {
                    // The build context (.dockerignore applied), or a named folder context.
                    let (entries, isFile) = try await bindEntries(
                        path, root: folder ?? request.context, ignore: folder == nil ? ignore : .none, from: mount.from, for: instruction)
                    // Bound files count by what they are, as COPY's do: an edit runs the RUN again
                    // (a named folder's by their bytes, being outside the context).
                    var key = CacheKey("bind", parent: [], request: request)
                    key.add(entries, context: request.context)
                    plan.keyParts.append("bound \(key.finish())")
                    planned.bind = .context(entries: entries, isFile: isFile)
                }
            case .cache:
                if mount.from != nil || mount.source != nil {
                    throw instruction.failure("--mount: type=cache seeded with from=/source= is not supported by the native builder yet")
                }
            case .secret:
                let given = request.secrets[mount.id] != nil
                if !given && mount.required {
                    throw instruction.failure("--mount: the secret '\(mount.id)' is required but the build was given none (slipway build --secret id=\(mount.id),src=FILE)")
                }
                plan.keyParts.append("secret \(mount.id) given=\(given)")
            case .tmpfs, .ssh:
                break
            }
            plan.planned.append(planned)
        }
        return plan
    }

    /// Makes the planned mounts ready. The caller releases them when the RUN ends.
    func prepareMounts(_ plan: RunMountPlan, for instruction: Instruction, request: BuildRequest, scratch: inout Scratchpad) async throws -> PreparedRunMounts {
        var prepared = PreparedRunMounts()
        do {
            for planned in plan.planned {
                let mount = planned.mount
                switch mount.kind {
                case .bind:
                    let entries: [LayerEntry], isFile: Bool
                    switch planned.bind {
                    case .context(let planned, let file)?: (entries, isFile) = (planned, file)
                    case .layers(let label, let layers, let path)?:
                        let root = try await scratch.rootfs(of: label, layers: layers, store: store)
                        (entries, isFile) = try await bindEntries(path, root: root, ignore: .none, from: mount.from, for: instruction)
                    case nil: continue
                    }
                    // A private copy (.dockerignore applied), so a read-write mount's writes go nowhere.
                    let folder = try StateDirectory(of: store).scratchFolder("bind")
                    prepared.folders.append(folder)
                    try EntryMaterializer(root: folder).write(entries)
                    let source = isFile
                        ? folder.appendingPathComponent(entries.first(where: { if case .directory = $0.content { false } else { true } })?.path ?? "")
                        : folder
                    prepared.mounts.append(ContainerMount(target: mount.target, source: .bind(source, readOnly: mount.readOnly)))
                case .cache:
                    let (folder, lock) = try await cacheFolder(for: mount)
                    prepared.locks.append(lock)
                    prepared.mounts.append(ContainerMount(target: mount.target, source: .bind(folder, readOnly: mount.readOnly)))
                case .tmpfs:
                    prepared.mounts.append(ContainerMount(target: mount.target, source: .tmpfs(size: mount.size)))
                case .secret:
                    guard let secret = request.secrets[mount.id] else {
                        request.log?("RUN --mount=type=secret,id=\(mount.id): the build was given no such secret; not mounted (add required=true to fail instead)")
                        continue
                    }
                    if let name = mount.environment {
                        guard let text = String(data: secret, encoding: .utf8) else {
                            throw instruction.failure("--mount: the secret '\(mount.id)' is not text, so it cannot be the variable \(name)")
                        }
                        prepared.environment.append("\(name)=\(text)")
                    }
                    guard !mount.target.isEmpty else { continue }
                    let folder = try StateDirectory(of: store).scratchFolder("secret")
                    prepared.folders.append(folder)
                    let file = folder.appendingPathComponent("secret")
                    guard FileManager.default.createFile(atPath: file.path, contents: secret, attributes: [.posixPermissions: 0o400]) else {
                        throw instruction.failure("--mount: cannot write the secret '\(mount.id)' for the RUN")
                    }
                    chmod(file.path, mode_t(mount.mode ?? 0o400))
                    chown(file.path, mount.uid ?? 0, mount.gid ?? 0)
                    prepared.mounts.append(ContainerMount(target: mount.target, source: .bind(file, readOnly: true)))
                case .ssh:
                    throw instruction.failure("--mount: type=ssh is not supported")
                }
            }
        } catch {
            prepared.release()
            throw error
        }
        return prepared
    }

    /// The entries a bind mount shows: `path` in `root` (a folder's contents, or one file).
    private func bindEntries(
        _ path: String, root: URL, ignore: DockerIgnore, from: String?, for instruction: Instruction
    ) async throws -> (entries: [LayerEntry], isFile: Bool) {
        let isFile: Bool
        do {
            let tree = DirectoryTree(root: root)
            if try tree.resolvedComponents(path).isEmpty {
                isFile = false  // the root itself
            } else {
                guard let found = try tree.locate(path) else {
                    throw instruction.failure("--mount: source \(path) does not exist in \(from ?? "the build context")")
                }
                isFile = !found.isDirectory
            }
        } catch let error as RootedPathError {
            throw instruction.failure("--mount: source \(path)", cause: error)
        }
        var planner = CopyPlanner(root: root, ignore: ignore, instruction: instruction)
        planner.keepsSourceOwners = from != nil
        let plan = planner
        return (try await BlockingWork.run { try plan.entries(sources: [path], destination: "/", workdir: "/", options: .init()) }, isFile)
    }

    /// The persistent folder of a cache mount, locked as its `sharing` says: `shared` with
    /// other users, `locked` alone (waiting for the others), `private` in an instance of its
    /// own when the first is in use. Locks are file locks, so they hold across processes.
    private func cacheFolder(for mount: RunMount) async throws -> (URL, Int32) {
        let base = StateDirectory(of: store).cacheMounts
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let name = SHA256.hash(data: Data(mount.id.utf8)).map { String(format: "%02x", $0) }.joined().prefix(32)
        var instance = 0
        while true {
            let folder = base.appendingPathComponent(instance == 0 ? String(name) : "\(name)-\(instance)")
            let descriptor = open(folder.path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw RuntimeError.setup("cannot open the lock of cache \(mount.id): \(String(cString: strerror(errno)))") }
            let operation = mount.sharing == .shared ? LOCK_SH : LOCK_EX
            // Never a blocking flock on the cooperative pool: try, and sleep between tries.
            while flock(descriptor, operation | LOCK_NB) != 0 {
                if mount.sharing == .private { break }
                do {
                    try await Task.sleep(for: .milliseconds(50))
                } catch {
                    close(descriptor)
                    throw error
                }
            }
            if mount.sharing == .private, flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
                close(descriptor)
                instance += 1
                continue
            }
            if mkdir(folder.path, mode_t(mount.mode ?? 0o755)) == 0 {
                chmod(folder.path, mode_t(mount.mode ?? 0o755))
                chown(folder.path, mount.uid ?? 0, mount.gid ?? 0)
            }
            return (folder, descriptor)
        }
    }
}
