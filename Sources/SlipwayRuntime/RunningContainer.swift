public import Foundation
import Glibc
import SlipwayKernel
import Synchronization

/// A container that has been started: wait for it, signal it, stop it, and remove it (its runc
/// state, its root mount and its bundle). A build's RUN waits and keeps the changes; a `cmd`
/// service is stopped at the end of the run. Removing is idempotent, and a container whose
/// owner died is removed by the next ``ContainerRuntime/sweep()``.
public final class RunningContainer: Sendable {
    public let id: String
    let bundle: URL
    let runtime: ContainerRuntime
    private let overlay: OverlayMount
    /// The request's ``ContainerRequest/target``, whose changes are the container's.
    private let target: OverlayMount?
    /// Mount points made in the root for this run only, taken out of the changes.
    private let mountPoints: [String]
    private let exit: Task<Int32, any Error>
    private let ended: ExitFlag
    private let removed = Mutex(false)

    /// Set by the task that waits for `runc run`, when it has ended.
    final class ExitFlag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    var pidFile: URL { bundle.appendingPathComponent("init.pid") }

    init(
        id: String, bundle: URL, runtime: ContainerRuntime, overlay: OverlayMount, target: OverlayMount? = nil, mountPoints: [String],
        exit: Task<Int32, any Error>, ended: ExitFlag
    ) {
        self.target = target
        self.ended = ended
        self.id = id
        self.bundle = bundle
        self.runtime = runtime
        self.overlay = overlay
        self.mountPoints = mountPoints
        self.exit = exit
    }

    /// Waits until the process runs (runc has written its pid file), polling every 10 ms.
    /// - Returns: false when the container ended first (``wait()`` then says how).
    public func waitUntilRunning() async -> Bool {
        while !ended.isSet {
            if FileManager.default.fileExists(atPath: pidFile.path) { return true }
            guard (try? await Task.sleep(for: .milliseconds(10))) != nil else { return false }
        }
        return false
    }

    /// The process's exit status (128 + N when killed by signal N).
    /// - Throws: ``RuntimeError`` when runc could not start the process.
    public func wait() async throws -> Int32 { try await exit.value }

    /// ``wait()`` for a container in the foreground: cancelling the waiting task kills it.
    public func waitKillingOnCancel() async throws -> Int32 {
        try await withTaskCancellationHandler {
            try await wait()
        } onCancel: {
            signal(SIGKILL)
        }
    }

    /// Sends `signal` to the container's init process (the kernel ends the rest of its PID
    /// namespace when init dies). runc writes the pid file only once the process has started,
    /// so a signal that comes early waits for it, on a Dispatch thread, for up to 10 s.
    public func signal(_ signal: Int32) {
        let pidFile = self.pidFile
        DispatchQueue.global().async {
            for _ in 0..<200 {
                if let text = try? String(contentsOf: pidFile, encoding: .utf8),
                    let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1
                {
                    Glibc.kill(pid, signal)
                    return
                }
                usleep(50_000)
            }
        }
    }

    /// SIGTERM, then SIGKILL when the process is still running after `grace`, as `docker stop`.
    /// - Returns: the exit status, or nil when the process never ran.
    @discardableResult
    public func stop(grace: Duration) async -> Int32? {
        signal(SIGTERM)
        let exit = self.exit
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = try? await exit.value }
            group.addTask { [self] in
                // Cancelled when the process ends first; otherwise its end is forced.
                guard (try? await Task.sleep(for: grace)) != nil else { return }
                signal(SIGKILL)
            }
            await group.next()
            group.cancelAll()
        }
        return try? await exit.value
    }

    /// Unmounts the root, deletes runc's state and the bundle. Safe to call more than once.
    public func remove() async {
        guard removed.withLock({ done in
            defer { done = true }
            return !done
        }) else { return }
        overlay.unmount()
        target?.unmount()
        let (runtime, id, bundle) = (self.runtime, self.id, self.bundle)
        await BlockingWork.run {
            runtime.deleteState(of: id)
            try? FileManager.default.removeItem(at: bundle)
        }
    }

    /// After the process ended: the container's changes in overlay form (whiteouts as 0/0
    /// devices), moved out of the bundle, which is then removed. The caller owns the folder.
    public func takeChanges() async throws -> URL {
        overlay.unmount()
        target?.unmount()
        if target == nil { removeMountPoints() }
        let changes = runtime.bundles.appendingPathComponent(id + ".changes")
        guard rename((target ?? overlay).upper.path, changes.path) == 0 else {
            let reason = String(cString: strerror(errno))
            await remove()
            throw RuntimeError.setup("cannot keep the container's changes: \(reason)")
        }
        await remove()
        return changes
    }

    /// Takes the mount points made for this run out of the upper directory (children first),
    /// leaving anything the process itself put there. The paths are resolved ones, so no
    /// symlink lies on the way.
    private func removeMountPoints() {
        for name in mountPoints.reversed() {
            let path = overlay.upper.appendingPathComponent(name).path
            if rmdir(path) != 0 {
                var info = stat()
                if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size == 0 { unlink(path) }
            }
        }
    }
}
