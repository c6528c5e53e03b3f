import Foundation
import Glibc
import SlipwayDockerfile
import SlipwayOCI

/// Turns `COPY`/`ADD` sources into layer entries, following Docker's rules: sources are inside
/// the source root (the context, or another stage's files) and may be globs; a directory
/// source copies its contents; several sources or a trailing `/` make the destination a
/// directory; missing parent directories are created.
struct CopyPlanner {
    let root: URL
    let ignore: DockerIgnore
    let instruction: Instruction

    struct Options {
        var owner: (uid: UInt32, gid: UInt32)?
        var mode: UInt32?
    }

    func entries(sources: [String], destination: String, workdir: String, options: Options) throws -> [LayerEntry] {
        var target = destination.hasPrefix("/") ? destination : (workdir.hasSuffix("/") ? workdir : workdir + "/") + destination
        let wantsDirectory = target.hasSuffix("/") || target.hasSuffix("/.")
        target = DockerIgnoreClean.path(target)
        var matches: [String] = []
        for source in sources {
            let found = try expand(source)
            guard !found.isEmpty else {
                throw instruction.failure("'\(source)' does not match any file in the build context" + (ignore.isEmpty ? "" : " (or it is excluded by .dockerignore)"))
            }
            matches += found
        }
        let intoDirectory = wantsDirectory || matches.count > 1 || sources.count > 1
        var entries: [LayerEntry] = []
        for match in matches {
            let url = match.isEmpty ? root : root.appendingPathComponent(match)
            var info = stat()
            guard stat(url.path, &info) == 0 else { throw instruction.failure("cannot read '\(match)': \(String(cString: strerror(errno)))") }
            if info.st_mode & S_IFMT == S_IFDIR {
                entries += try DirectoryScanner.entries(of: url, prefix: target).filter { entry in
                    let relative = String(entry.path.dropFirst(target.isEmpty ? 0 : target.count + 1))
                    return !ignore.excludes(match.isEmpty ? relative : match + "/" + relative)
                }
                if !target.isEmpty { entries.append(LayerEntry(path: target, content: .directory, mode: 0o755)) }
            } else {
                let name = (match.split(separator: "/").last.map(String.init)) ?? match
                let path = intoDirectory ? (target.isEmpty ? name : target + "/" + name) : target
                guard !path.isEmpty else { throw instruction.failure("cannot copy a file onto /") }
                entries.append(LayerEntry(
                    path: path, content: .file(source: url.resolvingSymlinksInPath(), size: Int64(info.st_size)),
                    mode: UInt32(info.st_mode) & 0o7777, modified: Int64(info.st_mtim.tv_sec)))
                if intoDirectory && !target.isEmpty { entries.append(LayerEntry(path: target, content: .directory, mode: 0o755)) }
            }
        }
        entries = entries.map { entry in
            var entry = entry
            if let owner = options.owner { (entry.uid, entry.gid) = owner } else { (entry.uid, entry.gid) = (0, 0) }
            if let mode = options.mode, !isSymlink(entry) { entry.mode = mode }
            return entry
        }
        entries += parents(of: target)
        // One entry per path; the last word wins (a parent added twice, a file copied twice).
        var byPath: [String: LayerEntry] = [:]
        for entry in entries { byPath[entry.path] = entry }
        return Array(byPath.values)
    }

    private func isSymlink(_ entry: LayerEntry) -> Bool {
        if case .symlink = entry.content { true } else { false }
    }

    /// Directories above `path` (not `path` itself), so the layer creates them.
    private func parents(of path: String) -> [LayerEntry] {
        let parts = path.split(separator: "/")
        guard parts.count > 1 else { return [] }
        return (1..<parts.count).map { LayerEntry(path: parts[0..<$0].joined(separator: "/"), content: .directory, mode: 0o755) }
    }

    /// The context-relative paths a source names: itself, or every match of a glob.
    private func expand(_ source: String) throws -> [String] {
        let cleaned = DockerIgnoreClean.path(source)
        guard !source.split(separator: "/").contains("..") || escapesNot(source) else {
            throw instruction.failure("'\(source)' is outside the build context")
        }
        if cleaned.contains(where: { "*?[".contains($0) }) {
            return try walk().filter { DockerIgnore.glob(cleaned, matches: $0) && !ignore.excludes($0) }.sorted()
        }
        if !cleaned.isEmpty, ignore.excludes(cleaned) { return [] }
        let url = cleaned.isEmpty ? root : root.appendingPathComponent(cleaned)
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        // A source that is (or goes through) a symlink must still land inside the root.
        let resolved = url.resolvingSymlinksInPath().path
        let rootPath = root.resolvingSymlinksInPath().path
        guard resolved == rootPath || resolved.hasPrefix(rootPath + "/") else {
            throw instruction.failure("'\(source)' leads outside the build context (through a symlink)")
        }
        return [cleaned]
    }

    private func escapesNot(_ source: String) -> Bool {
        var depth = 0
        for part in source.split(separator: "/") where part != "." {
            depth += part == ".." ? -1 : 1
            if depth < 0 { return false }
        }
        return true
    }

    /// Every path under the root, relative.
    private func walk() throws -> [String] {
        var found: [String] = []
        var pending = [""]
        while let folder = pending.popLast() {
            let url = folder.isEmpty ? root : root.appendingPathComponent(folder)
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path) {
                let path = folder.isEmpty ? name : folder + "/" + name
                found.append(path)
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isDirectory), isDirectory.boolValue {
                    pending.append(path)
                }
            }
        }
        return found
    }
}

/// Path cleaning shared with the ignore rules: `/a/./b/` → `a/b`.
enum DockerIgnoreClean {
    static func path(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { if !parts.isEmpty { parts.removeLast() } } else { parts.append(part) }
        }
        return parts.joined(separator: "/")
    }
}

extension Instruction {
    func failure(_ message: String) -> DockerfileError {
        DockerfileError(location: location, instruction: name, message: message)
    }
}
