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
    /// ADD unpacks local tar archives (plain, gzip, bzip2, xz, zstd) into the destination.
    var unpackArchives = false
    /// Where unpacked archives are staged (removed with the build's scratch space).
    var scratch: URL?

    struct Options {
        var owner: (uid: UInt32, gid: UInt32)?
        var mode: UInt32?
        /// Whether the stage already has a path: an existing directory such as /tmp keeps its
        /// mode and owner, a missing one is created (with the --chown owner).
        var exists: (String) -> Bool = { _ in false }
    }

    func entries(sources: [String], destination: String, workdir: String, options: Options) throws -> [LayerEntry] {
        var target = destination.hasPrefix("/") ? destination : (workdir.hasSuffix("/") ? workdir : workdir + "/") + destination
        let wantsDirectory = target.hasSuffix("/") || target.hasSuffix("/.")
        target = DockerIgnore.cleanPath(target)
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
                if !target.isEmpty { entries.append(created(target, options)) }
            } else if unpackArchives, Self.isArchive(url), let scratch {
                // ADD archive.tar /dest/: the archive's contents, not the archive.
                let unpacked = scratch.appendingPathComponent(UUID().uuidString)
                do {
                    try LayerExtractor(limits: .init(keepOwnership: false)).extract(url, into: unpacked)
                } catch {
                    throw instruction.failure("cannot unpack '\(match)': \(error)")
                }
                entries += try DirectoryScanner.entries(of: unpacked, prefix: target)
                if !target.isEmpty { entries.append(created(target, options)) }
            } else {
                let name = (match.split(separator: "/").last.map(String.init)) ?? match
                let path = intoDirectory ? (target.isEmpty ? name : target + "/" + name) : target
                guard !path.isEmpty else { throw instruction.failure("cannot copy a file onto /") }
                entries.append(LayerEntry(
                    path: path, content: .file(source: url.resolvingSymlinksInPath(), size: Int64(info.st_size)),
                    mode: UInt32(info.st_mode) & 0o7777, modified: Int64(info.st_mtim.tv_sec)))
                if intoDirectory && !target.isEmpty { entries.append(created(target, options)) }
            }
        }
        // Copied content gets the owner (root unless --chown) and --chmod; directories created to
        // hold it get the owner and 0755 (as buildah does).
        let createdPaths = Set(entries.filter { $0.path == target && $0.content == .directory }.map(\.path))
        entries = entries.map { entry in
            guard !createdPaths.contains(entry.path) else { return entry }
            var entry = entry
            (entry.uid, entry.gid) = options.owner ?? (0, 0)
            if let mode = options.mode, !isSymlink(entry) { entry.mode = mode }
            return entry
        }
        entries += parents(of: target, options)
        entries.removeAll { createdPaths.contains($0.path) && options.exists($0.path) }
        // One entry per path; the last word wins (a parent added twice, a file copied twice).
        var byPath: [String: LayerEntry] = [:]
        for entry in entries { byPath[entry.path] = entry }
        return Array(byPath.values)
    }

    /// Recognises tar archives by their bytes, as Docker does (not by name).
    static func isArchive(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url), let head = try? handle.read(upToCount: 512) else { return false }
        try? handle.close()
        let bytes = [UInt8](head)
        let compressed: [[UInt8]] = [[0x1F, 0x8B], [0x42, 0x5A, 0x68], [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], [0x28, 0xB5, 0x2F, 0xFD]]
        if compressed.contains(where: { bytes.starts(with: $0) }) { return true }
        return bytes.count >= 262 && Array(bytes[257..<262]) == Array("ustar".utf8)
    }

    private func isSymlink(_ entry: LayerEntry) -> Bool {
        if case .symlink = entry.content { true } else { false }
    }

    /// A directory made to hold copied content.
    private func created(_ path: String, _ options: Options) -> LayerEntry {
        LayerEntry(path: path, content: .directory, mode: 0o755, uid: options.owner?.uid ?? 0, gid: options.owner?.gid ?? 0)
    }

    /// Missing directories above `path`.
    private func parents(of path: String, _ options: Options) -> [LayerEntry] {
        let parts = path.split(separator: "/")
        guard parts.count > 1 else { return [] }
        return (1..<parts.count).map { parts[0..<$0].joined(separator: "/") }.filter { !options.exists($0) }.map { created($0, options) }
    }

    /// The context-relative paths a source names: itself, or every match of a glob.
    private func expand(_ source: String) throws -> [String] {
        let cleaned = DockerIgnore.cleanPath(source)
        guard Self.staysInside(source) else {
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

    /// Whether `..` components never climb above the root (cleaning would silently clamp them).
    private static func staysInside(_ source: String) -> Bool {
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

extension Instruction {
    func failure(_ message: String) -> DockerfileError {
        DockerfileError(location: location, instruction: name, message: message)
    }
}
