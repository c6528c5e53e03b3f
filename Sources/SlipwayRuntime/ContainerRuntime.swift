public import Foundation
import Dispatch
import Glibc
import SlipwayKernel
import SlipwayOCI

/// Runs processes in containers with `runc`: an overlay of cached image layers as the root, a
/// bundle whose `config.json` comes from ``RuntimeSpec``, and the upper directory handed back
/// as the container's changes. Needs root, `runc` and overlayfs, as rootful buildah does.
public struct ContainerRuntime: Sendable {
    /// Where bundles live while their containers run (`<state>/run`).
    public let bundles: URL
    public let runc: String

    /// runc's own state (`--root`): Slipway's containers are kept apart from anyone else's.
    var stateRoot: URL { bundles.appendingPathComponent(".runc") }

    public init(bundles: URL, runc: String = "runc") {
        self.bundles = bundles
        self.runc = runc
    }

    /// Fails with a message that says what to install or how to run, when containers cannot work here.
    public static func checkPrerequisites(runc: String = "runc") throws {
        guard geteuid() == 0 else {
            throw RuntimeError.unavailable("RUN needs root (for overlay mounts and runc); run slipway as root, as rootful buildah is")
        }
        guard executablePath(runc) != nil else {
            throw RuntimeError.unavailable("'\(runc)' is not on PATH; install it with: apt-get install -y runc")
        }
    }

    /// Runs `request` to completion, streaming its output lines to `output`, and hands back its
    /// changes. Cancelling the task kills the container; its bundle and mount are always cleaned up.
    public func run(_ request: ContainerRequest, output: @escaping @Sendable (ContainerOutput) -> Void) async throws -> ContainerResult {
        let container = try await start(request, output: output)
        let status: Int32
        do {
            status = try await container.waitKillingOnCancel()
        } catch {
            await container.remove()
            throw error
        }
        return ContainerResult(status: status, changes: try await container.takeChanges())
    }

    /// Starts `request` and returns while it runs: an overlay root over the cached layers with a
    /// throwaway upper directory, a bundle labelled with this process and the run, and
    /// `runc run` in the foreground of a child process whose output lines go to `output`.
    public func start(_ request: ContainerRequest, output: @escaping @Sendable (ContainerOutput) -> Void) async throws -> RunningContainer {
        try Self.checkPrerequisites(runc: runc)
        let id = "slipway-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let bundle = bundles.appendingPathComponent(String(id))
        let rootfs = bundle.appendingPathComponent("rootfs")
        let upper = bundle.appendingPathComponent("upper")
        let work = bundle.appendingPathComponent("work")
        for folder in [rootfs, upper, work] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        do {
            // Labelled before anything is mounted, so a crash from here on is swept up.
            try ContainerOwner.current(run: request.runID).write(into: bundle)
        } catch {
            try? FileManager.default.removeItem(at: bundle)
            throw RuntimeError.setup("cannot write the container's bundle in \(bundles.path): \(error)")
        }
        let overlay: OverlayMount
        do {
            overlay = try OverlayMount.mount(
                lowers: request.lowers, upper: upper, work: work, target: rootfs, links: bundle.appendingPathComponent("l"))
        } catch {
            try? FileManager.default.removeItem(at: bundle)
            throw error
        }
        var request = request
        var target: OverlayMount?
        if let wanted = request.target {
            let root = bundle.appendingPathComponent("target")
            do {
                for name in ["target", "target-upper", "target-work"] {
                    try FileManager.default.createDirectory(at: bundle.appendingPathComponent(name), withIntermediateDirectories: true)
                }
                target = try OverlayMount.mount(
                    lowers: wanted.lowers, upper: bundle.appendingPathComponent("target-upper"), work: bundle.appendingPathComponent("target-work"),
                    target: root, links: bundle.appendingPathComponent("tl"))
            } catch {
                overlay.unmount()
                try? FileManager.default.removeItem(at: bundle)
                throw error
            }
            request.mounts.insert(ContainerMount(target: wanted.path, source: .root(root)), at: 0)
        }
        do {
            let tree = DirectoryTree(root: rootfs)
            let created = try prepareMountPoints(tree, request: request)
            let user = try ContainerUser.resolve(request.user, in: tree)
            let spec = spec(for: request, rootfs: rootfs, user: user)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(spec).write(to: bundle.appendingPathComponent("config.json"))
            let ended = RunningContainer.ExitFlag()
            let exit = try launch(id: String(id), bundle: bundle, ended: ended, output: output)
            return RunningContainer(
                id: String(id), bundle: bundle, runtime: self, overlay: overlay, target: target, mountPoints: created, exit: exit, ended: ended)
        } catch {
            target?.unmount()
            overlay.unmount()
            try? FileManager.default.removeItem(at: bundle)
            throw error
        }
    }

    /// Removes what containers of dead Slipway processes left behind (a crash, `kill -9`): their
    /// runc state (which kills anything still running in them), root mounts and bundles, and
    /// the changes of RUN steps that never became layers. Containers of live processes, this
    /// one included, are left alone.
    /// - Returns: the ids of the containers removed.
    @discardableResult
    public func sweep() async -> [String] {
        let runtime = self
        return await BlockingWork.run {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: runtime.bundles.path) else { return [] }
            var removed: [String] = []
            for name in names.sorted() where name.hasPrefix("slipway-") && !name.hasSuffix(".changes") {
                let bundle = runtime.bundles.appendingPathComponent(name)
                // A bundle without an owner is one being made right now, or one from before
                // bundles were labelled: only the latter is old enough to be sure of.
                if let owner = ContainerOwner.read(from: bundle) {
                    if owner.isAlive { continue }
                } else if Self.age(of: bundle) < 3600 {
                    continue
                }
                runtime.deleteState(of: name)
                for mount in ["target", "rootfs"] {
                    let path = bundle.appendingPathComponent(mount).path
                    if umount2(path, 0) != 0 { _ = umount2(path, Int32(MNT_DETACH)) }
                }
                try? FileManager.default.removeItem(at: bundle)
                try? FileManager.default.removeItem(at: runtime.bundles.appendingPathComponent(name + ".changes"))
                removed.append(name)
            }
            return removed
        }
    }

    /// `runc delete --force`: kills the container if it still runs and forgets it. Blocking.
    func deleteState(of id: String) {
        guard FileManager.default.fileExists(atPath: stateRoot.appendingPathComponent(id).path) else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executablePath(runc) ?? runc)
        process.arguments = ["--root", stateRoot.path, "delete", "--force", id]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return }
        process.waitUntilExit()
    }

    private static func age(of url: URL) -> TimeInterval {
        var info = stat()
        guard lstat(url.path, &info) == 0 else { return 0 }
        return Date().timeIntervalSince1970 - TimeInterval(info.st_mtim.tv_sec)
    }

    // MARK: Bundle

    private func spec(for request: ContainerRequest, rootfs: URL, user: ContainerUser) -> RuntimeSpec {
        var environment = request.environment
        if !environment.contains(where: { $0.hasPrefix("PATH=") }) {
            environment.append("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        }
        if !environment.contains(where: { $0.hasPrefix("HOME=") }) { environment.append("HOME=\(user.home)") }
        var namespaces = ["pid", "ipc", "uts", "mount"].map { RuntimeSpec.Namespace(type: $0) }
        var mounts = RuntimeSpec.Mount.standard
        if let attachment = request.attachment {
            namespaces.append(RuntimeSpec.Namespace(type: "network", path: attachment.namespace.path))
            let files = [("/etc/hosts", attachment.hosts)] + (attachment.resolvConf.map { [("/etc/resolv.conf", $0)] } ?? [])
            for (target, source) in files {
                mounts.append(RuntimeSpec.Mount(destination: target, type: "bind", source: source.path, options: ["rbind", "ro", "nosuid", "nodev"]))
            }
        } else {
            switch request.network {
            case .none:
                namespaces.append(RuntimeSpec.Namespace(type: "network"))
            case .host:
            // The host's name resolution, read-only, so downloads work as on the host.
            // runc resolves mount destinations inside the root itself (securejoin).
                let tree = DirectoryTree(root: rootfs)
                for file in ["/etc/resolv.conf", "/etc/hosts"]
                where Self.isRegularFile(URL(fileURLWithPath: file)) && ((try? tree.locate(file)) ?? nil) != nil {
                    mounts.append(RuntimeSpec.Mount(destination: file, type: "bind", source: file, options: ["rbind", "ro", "nosuid", "nodev"]))
                }
            }
        }
        mounts += request.mounts.map(\.runtimeMount)
        return RuntimeSpec(
            process: RuntimeSpec.Process(
                user: RuntimeSpec.User(uid: user.uid, gid: user.gid, additionalGids: user.groups),
                args: request.command, env: environment, cwd: request.workingDirectory,
                capabilities: request.privileged ? .all : .buildDefault,
                rlimits: [Self.openFileLimit()],
                noNewPrivileges: !request.privileged),
            root: RuntimeSpec.Root(path: rootfs.path),
            hostname: request.hostname,
            mounts: mounts,
            linux: RuntimeSpec.Linux(
                namespaces: namespaces, maskedPaths: request.privileged ? [] : RuntimeSpec.maskedPaths,
                readonlyPaths: request.privileged ? [] : RuntimeSpec.readonlyPaths,
                resources: RuntimeSpec.Resources(devices: [RuntimeSpec.DeviceRule(allow: request.privileged, access: "rwm")]),
                seccomp: request.privileged ? nil : request.seccomp))
    }

    /// Mount targets and the working directory must exist in the root. The ones made here only
    /// for mounting are listed so they can be taken out of the changes afterwards; the working
    /// directory stays (as in Docker and Buildah, the step that first needs it creates it).
    /// Every path is resolved inside the root (``DirectoryTree``): a base image's `etc -> /x`
    /// or `app -> /` can only ever lead to places inside the container's own root.
    private func prepareMountPoints(_ tree: DirectoryTree, request: ContainerRequest) throws -> [String] {
        var created: [String] = []
        do {
            for name in ["proc", "dev", "sys"] {
                created += try tree.makeDirectories(name)
            }
            if request.network == .host || request.attachment != nil {
                let names = request.attachment.map { $0.resolvConf == nil ? ["etc/hosts"] : ["etc/resolv.conf", "etc/hosts"] }
                for name in names ?? ["etc/resolv.conf", "etc/hosts"] {
                    // No /etc yet: skip the mount rather than make a directory the command may make too.
                    guard let etc = try tree.locate("etc"), etc.isDirectory else { continue }
                    if let made = try tree.createFile(name) { created.append(made) }
                }
            }
            // The working directory first: it stays, even when a mount point lies inside it.
            try tree.makeDirectories(request.workingDirectory)
            // Mount points exist only for the run: they are taken out of the changes after it.
            for mount in request.mounts {
                let parent = (mount.target as NSString).deletingLastPathComponent
                if mount.isFile {
                    created += try tree.makeDirectories(parent)
                    if let made = try tree.createFile(mount.target) { created.append(made) }
                } else {
                    created += try tree.makeDirectories(mount.target)
                }
            }
        } catch let error as RootedPathError {
            throw RuntimeError.setup("\(error)")
        }
        return created
    }

    // MARK: Process

    /// Spawns `runc run` and returns the task that forwards its output and ends with its status.
    private func launch(
        id: String, bundle: URL, ended: RunningContainer.ExitFlag, output: @escaping @Sendable (ContainerOutput) -> Void
    ) throws -> Task<Int32, any Error> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executablePath(runc) ?? runc)
        let pidFile = bundle.appendingPathComponent("init.pid")
        process.arguments = ["--root", stateRoot.path, "run", "--pid-file", pidFile.path, "--bundle", bundle.path, id]
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return Task {
            defer { ended.set() }
            async let stdout = Self.forward(out.fileHandleForReading, as: .stdout, to: output)
            async let stderr = Self.forward(err.fileHandleForReading, as: .stderr, to: output)
            let (_, runtimeErrors) = await (stdout, stderr)
            await BlockingWork.wait { process.waitUntilExit() }
            let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
            // The process never ran (bad command, missing binary): say what runc said.
            if status != 0, let failure = runtimeErrors.last {
                let message = failure.range(of: "msg=").map { String(failure[$0.upperBound...]) } ?? failure
                var text = message.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).replacingOccurrences(of: "\\\"", with: "\"")
                for prefix in ["runc run failed: ", "unable to start container process: "] where text.hasPrefix(prefix) {
                    text = String(text.dropFirst(prefix.count))
                }
                throw text.hasPrefix("exec: ") ? RuntimeError.cannotStart(text) : RuntimeError.runtime(text)
            }
            return status
        }
    }

    /// Passes each line on; returns runc's own error lines (`time="..." level=error msg="..."`),
    /// which are reported as the error rather than as the command's output.
    private static func forward(
        _ handle: FileHandle, as stream: ContainerOutput.Stream, to output: @escaping @Sendable (ContainerOutput) -> Void
    ) async -> [String] {
        await PipeLines.read(handle) { line in
            if stream == .stderr, isRuntimeError(line) { return true }
            output(ContainerOutput(stream: stream, text: line))
            return false
        }
    }

    private static func isRuntimeError(_ line: String) -> Bool { line.hasPrefix("time=\"") && line.contains("level=error") }

    /// As many open files as Docker gives (2^20), but never more than this process may have:
    /// runc cannot raise a hard limit.
    static func openFileLimit() -> RuntimeSpec.Rlimit {
        var limit = rlimit()
        let hard = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? min(UInt64(limit.rlim_max), 1 << 20) : 1024
        return RuntimeSpec.Rlimit(type: "RLIMIT_NOFILE", hard: hard, soft: hard)
    }

    // MARK: Files

    static func isRegularFile(_ url: URL) -> Bool {
        var info = stat()
        return stat(url.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    static func executablePath(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }
}
