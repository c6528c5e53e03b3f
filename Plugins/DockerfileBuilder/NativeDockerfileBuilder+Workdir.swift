import Foundation
import SlipwayDockerfile
import SlipwayKernel
import SlipwayOCI
import SlipwayRuntime

extension NativeDockerfileBuilder {
    /// WORKDIR as BuildKit carries it out: the working directory is set, and when it is not `/`
    /// the folders of its path that the stage lacks are made (0755, owned by the current USER)
    /// in a layer of their own, so the image has them even when no RUN follows. A path the stage
    /// already has as a folder needs no layer. The path is resolved inside the stage, as
    /// BuildKit's mkdir resolves it: `WORKDIR /var/run/app` through `var/run -> /run` makes
    /// `run/app`.
    func workdir(_ instruction: Instruction, words: ShellWords, in state: inout StageState, request: BuildRequest) async throws -> Bool {
        let path = try instruction.singleValue(words)
        let current = state.container.workingDir ?? "/"
        let absolute = path.hasPrefix("/") ? path : (current.hasSuffix("/") ? current : current + "/") + path
        state.container.workingDir = absolute
        let cleaned = DockerIgnore.cleanPath(absolute)
        guard !cleaned.isEmpty else { return false }

        let placed: (path: String, isDirectory: Bool)
        do {
            placed = try destinationPlacer(of: state)(cleaned)
        } catch let error as RootedPathError {
            throw instruction.failure("", cause: error)
        }
        if placed.isDirectory { return false }
        let owner = try workdirOwner(of: state, for: instruction)
        let existing = pathIndex(of: state)
        let parts = placed.path.split(separator: "/").map(String.init)
        var entries: [LayerEntry] = []
        for depth in 1...parts.count {
            let prefix = parts[0..<depth].joined(separator: "/")
            if let found = try existing(prefix) {
                guard found.content == .directory else {
                    throw instruction.failure("cannot make the working directory: '/\(prefix)' exists and is not a directory")
                }
                continue
            }
            entries.append(LayerEntry(path: prefix, content: .directory, mode: 0o755, uid: owner.uid, gid: owner.gid))
        }
        guard !entries.isEmpty else { return false }
        let layer = try await layer(of: entries, key: CacheKey("workdir", parent: state.config.rootfs.diffIDs, request: request), for: instruction, request: request)
        state.noteChanges(entries)
        state.append(layer, kind: .meta)
        return true
    }

    /// The owner of folders WORKDIR makes: the current USER (root when none), looked up in the
    /// stage's own /etc/passwd and /etc/group like the user a RUN runs as.
    private func workdirOwner(of state: StageState, for instruction: Instruction) throws -> (uid: UInt32, gid: UInt32) {
        guard let user = state.container.user, !user.isEmpty else { return (0, 0) }
        do {
            let resolved = try ContainerUser.resolve(user, passwd: try file("etc/passwd", in: state), group: try file("etc/group", in: state))
            return (resolved.uid, resolved.gid)
        } catch let error as RuntimeError {
            throw instruction.failure("USER \(user)", cause: error)
        } catch let error as RootedPathError {
            throw instruction.failure("USER \(user)", cause: error)
        }
    }
}
