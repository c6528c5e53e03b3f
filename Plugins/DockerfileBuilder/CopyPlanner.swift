import Foundation
import Glibc
import SlipwayDockerfile
import SlipwayKernel
import SlipwayOCI

/// Turns `COPY`/`ADD` sources into layer entries, following Docker's rules: sources are inside
/// the source root (the context, or another stage's files) and may be globs; a directory
/// source copies its contents; several sources or a trailing `/` make the destination a
/// directory; missing parent directories are created.
///
/// Every source, glob or not, is resolved inside its root (``DirectoryTree``): a symlink is
/// followed as if the root were `/`, so `hostetc -> /etc` names the root's own `etc`, and no
/// file outside the root is ever opened.
struct CopyPlanner {
    let root: URL
    var tree: DirectoryTree { DirectoryTree(root: root) }
    let ignore: DockerIgnore
    let instruction: Instruction
    /// ADD unpacks local tar archives (plain, gzip, bzip2, xz, zstd) into the destination.
    var unpackArchives = false
    /// Where unpacked archives are staged (removed with the build's scratch space).
    var scratch: URL?
    /// Whether copied files keep their owners when there is no --chown: true for another
    /// stage's or image's files (COPY --from); files from the context become root's.
    var keepsSourceOwners = false
    /// `--exclude` patterns (`.dockerignore` syntax): matched against each copied path relative
    /// to the source that matched (as BuildKit's copier does), and against that source itself.
    var exclude: DockerIgnore = .none
    /// `COPY --parents`: each match keeps its path (below an optional `/./` pivot in the source)
    /// under the destination, with the folders above it as the source has them.
    var keepsParents = false

    struct Options: Sendable {
        var owner: (uid: UInt32, gid: UInt32)?
        var mode: UInt32?
        /// What the stage already has at a path (metadata only). An existing directory such as
        /// /tmp or a home folder goes into the layer as it is (mode, owner, xattrs), as Docker's
        /// and BuildKit's layers carry it, so whoever unpacks the layer keeps it; a missing one is
        /// created (with the --chown owner).
        var existing: @Sendable (String) throws -> LayerEntry? = { _ in nil }
        /// Where the destination really is in the stage (its directories' links followed inside
        /// the stage, as BuildKit does), and whether it is an existing directory there: then a
        /// single file goes into it (`COPY app /usr/bin`), as in Docker.
        var place: @Sendable (String) throws -> (path: String, isDirectory: Bool) = { ($0, false) }
    }

    func entries(sources: [String], destination: String, workdir: String, options: Options) throws -> [LayerEntry] {
        var target = destination.hasPrefix("/") ? destination : (workdir.hasSuffix("/") ? workdir : workdir + "/") + destination
        var wantsDirectory = target.hasSuffix("/") || target.hasSuffix("/.")
        target = DockerIgnore.cleanPath(target)
        if !target.isEmpty {
            let placed: (path: String, isDirectory: Bool)
            do {
                placed = try options.place(target)
            } catch let error as RootedPathError {
                throw instruction.failure("the destination", cause: error)
            }
            target = placed.path
            wantsDirectory = wantsDirectory || placed.isDirectory
        }
        var matches: [Match] = []
        let excluded = ignore.isEmpty ? "" : " (or it is excluded by .dockerignore)"
        for source in sources {
            let found = try keepsParents ? expandKeepingParents(source) : expand(source)
            // A wildcard may match nothing when another source matches something (BuildKit's
            // rule); a plain path must exist.
            guard !found.isEmpty || (Self.isGlob(source) && sources.count > 1) else {
                throw instruction.failure("'\(source)' does not match any file in the build context" + excluded)
            }
            matches += found
        }
        guard !matches.isEmpty else {
            throw instruction.failure("no source files: '\(sources.joined(separator: "', '"))' match nothing in the build context" + excluded)
        }
        let intoDirectory = wantsDirectory || matches.count > 1 || sources.count > 1 || keepsParents
        var entries: [LayerEntry] = []
        // Entries an ADDed archive unpacked: they keep the archive's owners, as in Docker.
        var fromArchives = Set<String>()
        for match in matches {
            let url = tree.url(match.resolved)
            var info = stat()
            // The resolved path has no symlink in it: lstat sees what a chroot would.
            guard lstat(url.path, &info) == 0 else { throw instruction.failure("cannot read '\(match.written)': \(String(cString: strerror(errno)))") }
            let resolvedPath = match.resolved.joined(separator: "/")
            // With --parents a match lands at its own path below the destination, under copies
            // of the folders above it; otherwise a directory's contents go to the destination.
            let placedAt = match.kept.map { join(target, $0) }
            if let kept = match.kept { entries += try keptParents(kept, of: match, under: target) }
            if info.st_mode & S_IFMT == S_IFDIR {
                let prefix = placedAt ?? target
                let scanned = try DirectoryScanner.entries(of: url, prefix: prefix)
                entries += Self.keepingLinkTargets(of: scanned, host: url, prefix: prefix) { entry in
                    let relative = String(entry.path.dropFirst(prefix.isEmpty ? 0 : prefix.count + 1))
                    return !ignore.excludes(resolvedPath.isEmpty ? relative : resolvedPath + "/" + relative) && !exclude.excludes(relative)
                }
                if let placedAt {
                    entries.append(try DirectoryScanner.entry(.directory, at: placedAt, host: url.path))
                } else if !target.isEmpty {
                    entries.append(created(target, options))
                }
            } else if unpackArchives, Self.isArchive(url), let scratch {
                // ADD archive.tar /dest/: the archive's contents, not the archive.
                let unpacked = scratch.appendingPathComponent(UUID().uuidString)
                do {
                    try LayerExtractor(limits: .init(allowDevices: false)).extract(url, into: unpacked)
                } catch {
                    throw instruction.failure("cannot unpack '\(match.written)'", cause: error)
                }
                let unpackedEntries = try DirectoryScanner.entries(of: unpacked, prefix: target)
                fromArchives.formUnion(unpackedEntries.map(\.path))
                entries += unpackedEntries
                if !target.isEmpty { entries.append(created(target, options)) }
            } else {
                let name = (match.written.split(separator: "/").last.map(String.init)) ?? match.written
                let path = placedAt ?? (intoDirectory ? join(target, name) : target)
                guard !path.isEmpty else { throw instruction.failure("cannot copy a file onto /") }
                entries.append(try DirectoryScanner.entry(.file(source: url, size: Int64(info.st_size)), at: path, host: url.path))
                if intoDirectory && !target.isEmpty { entries.append(created(target, options)) }
            }
        }
        // Copied content gets the owner (root unless --chown) and --chmod; directories created to
        // hold it get the owner and 0755 (as buildah does).
        let createdPaths = Set(entries.filter { $0.path == target && $0.content == .directory }.map(\.path))
        entries = entries.map { entry in
            guard !createdPaths.contains(entry.path) else { return entry }
            var entry = entry
            if let owner = options.owner {
                (entry.uid, entry.gid) = owner
            } else if !keepsSourceOwners && !fromArchives.contains(entry.path) {
                (entry.uid, entry.gid) = (0, 0)
            }
            if let mode = options.mode, !isSymlink(entry) { entry.mode = mode }
            return entry
        }
        entries += try parents(of: target, options)
        entries = try entries.map { entry in
            guard createdPaths.contains(entry.path), let existing = try existingDirectory(entry.path, options) else { return entry }
            return existing
        }
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

    /// The directories above `path`: the stage's own as they are, missing ones created.
    private func parents(of path: String, _ options: Options) throws -> [LayerEntry] {
        let parts = path.split(separator: "/")
        guard parts.count > 1 else { return [] }
        return try (1..<parts.count).map { parts[0..<$0].joined(separator: "/") }.map { try existingDirectory($0, options) ?? created($0, options) }
    }

    /// The stage's directory at `path` with its metadata, to carry into the layer unchanged.
    private func existingDirectory(_ path: String, _ options: Options) throws -> LayerEntry? {
        guard var entry = try options.existing(path), entry.content == .directory else { return nil }
        entry.path = path
        return entry
    }

    /// A source path as the Dockerfile names it, and where it really is inside the root.
    struct Match {
        var written: String
        var resolved: [String]
        /// With --parents: the path the match keeps below the destination.
        var kept: String?
    }

    private func join(_ directory: String, _ name: String) -> String { directory.isEmpty ? name : directory + "/" + name }

    /// Whether --exclude leaves out a match itself (`COPY --exclude=*.txt hom* /d/`, as
    /// documented), by its path or its name; what lies below a matched folder is filtered apart.
    private func excludesMatch(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return !path.isEmpty && (exclude.excludes(path) || exclude.excludes(name))
    }

    /// Entries whose hardlink partner a filter dropped (.dockerignore, --exclude) become files
    /// of their own, so the layer never holds a link to a path it lacks.
    static func keepingLinkTargets(of scanned: [LayerEntry], host: URL, prefix: String, where keep: (LayerEntry) -> Bool) -> [LayerEntry] {
        let kept = scanned.filter(keep)
        let paths = Set(kept.map(\.path))
        var promoted: [String: String] = [:]  // a dropped link target -> the first kept path now holding its bytes
        return kept.map { entry in
            guard case .hardlink(let target) = entry.content, !paths.contains(target) else { return entry }
            if let holder = promoted[target] {
                var linked = entry
                linked.content = .hardlink(target: holder)
                return linked
            }
            promoted[target] = entry.path
            let relative = String(entry.path.dropFirst(prefix.isEmpty ? 0 : prefix.count + 1))
            let file = host.appendingPathComponent(relative)
            var info = stat()
            var copy = entry
            copy.content = .file(source: file, size: lstat(file.path, &info) == 0 ? Int64(info.st_size) : 0)
            return copy
        }
    }

    /// The folders between the destination and a --parents match, as the source has them.
    private func keptParents(_ kept: String, of match: Match, under target: String) throws -> [LayerEntry] {
        let keptParts = kept.split(separator: "/").map(String.init)
        guard keptParts.count > 1 else { return [] }
        let base = String(match.written.dropLast(kept.count)).trimmingSuffix("/")
        return try (1..<keptParts.count).map { depth in
            let inKept = keptParts[0..<depth].joined(separator: "/")
            let host = tree.url(try tree.resolvedComponents(join(base, inKept)))
            return try DirectoryScanner.entry(.directory, at: join(target, inKept), host: host.path)
        }
    }

    /// The matches of a --parents source: `base/./pattern` keeps what lies below `base`;
    /// without a pivot the whole path is kept. `**` spans folders, as in BuildKit's pattern
    /// matcher; a plain path must exist.
    private func expandKeepingParents(_ source: String) throws -> [Match] {
        let base: String
        let pattern: String
        if let pivot = source.range(of: "/./") {
            base = DockerIgnore.cleanPath(String(source[..<pivot.lowerBound]))
            pattern = DockerIgnore.cleanPath(String(source[pivot.upperBound...]))
        } else {
            base = ""
            pattern = DockerIgnore.cleanPath(source)
        }
        guard Self.staysInside(source) else { throw instruction.failure("'\(source)' is outside the build context") }
        var found: [Match]
        if pattern.split(separator: "/").contains("**") {
            found = try walkMatches(base: base, pattern: pattern)
        } else {
            found = try expand(join(base, pattern))
        }
        for index in found.indices {
            let written = DockerIgnore.cleanPath(found[index].written)
            found[index].written = written
            found[index].kept = base.isEmpty ? written : String(written.dropFirst(base.count + 1))
        }
        return found.filter { !($0.kept ?? "").isEmpty }
    }

    /// Every path below `base` that `pattern` (relative to `base`, `**` allowed) names; a folder
    /// that matches brings all it holds, so nothing below it is listed again.
    private func walkMatches(base: String, pattern: String) throws -> [Match] {
        guard let directory = directoryURL(base) else { return [] }
        var matches: [Match] = []
        var covered: [String] = []
        for entry in try DirectoryScanner.entries(of: directory) {
            let relative = entry.path
            guard !covered.contains(where: { relative.hasPrefix($0 + "/") }), DockerIgnore.glob(pattern, matches: relative) else { continue }
            let written = join(base, relative)
            guard !ignore.excludes(written) else { continue }
            // A folder that matches brings all it holds; a folder --exclude leaves out, none of it.
            if entry.content == .directory { covered.append(relative) }
            guard !excludesMatch(written) else { continue }
            matches.append(Match(written: written, resolved: try tree.resolvedComponents(written)))
        }
        return matches
    }

    /// The paths a source names inside the root: itself, or every match of a glob. A path that
    /// ``DockerIgnore`` excludes is not there, whether it is named directly or through a link.
    private func expand(_ source: String) throws -> [Match] {
        let cleaned = DockerIgnore.cleanPath(source)
        guard Self.staysInside(source) else {
            throw instruction.failure("'\(source)' is outside the build context")
        }
        let written = Self.isGlob(cleaned) ? globMatches(cleaned) : [cleaned]
        var matches: [Match] = []
        // An excluded directory whose contents a `!` rule brings back is still there
        // (`**` then `!dir/file`): its walk keeps just the re-included files.
        for path in written where path.isEmpty || !ignore.excludes(path) || ignore.mayReinclude(below: path) {
            let resolved: [String]
            do {
                resolved = try tree.resolvedComponents(path)
            } catch let error as RootedPathError {
                throw instruction.failure("", cause: error)
            }
            let resolvedPath = resolved.joined(separator: "/")
            if !resolved.isEmpty {
                guard let found = tree.entry(at: resolved) else { continue }
                guard !ignore.excludes(resolvedPath) || (found.isDirectory && ignore.mayReinclude(below: resolvedPath)) else { continue }
            }
            guard !excludesMatch(path) else { continue }
            matches.append(Match(written: path, resolved: resolved))
        }
        return matches.sorted { $0.written < $1.written }
    }

    /// The paths under the root that a glob matches, component by component: each directory is
    /// listed where it really is inside the root, so a link in the pattern's way
    /// (`hostet[c]/shadow` through `hostetc -> /etc`) is followed inside the root only.
    private func globMatches(_ pattern: String) -> [String] {
        var prefixes = [""]
        let parts = pattern.split(separator: "/").map(String.init)
        for part in parts {
            guard part.contains(where: { "*?[".contains($0) }) else {
                prefixes = prefixes.map { join($0, part) }
                continue
            }
            var next: [String] = []
            for prefix in prefixes {
                // A prefix that is not a directory inside the root (or loops) matches nothing.
                guard let directory = directoryURL(prefix),
                    let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
                else { continue }
                next += names.filter { DockerIgnore.glob(part, matches: $0) }.map { join(prefix, $0) }
            }
            prefixes = next
        }
        return prefixes.filter { DockerIgnore.glob(pattern, matches: $0) }
    }

    /// Where the directory `path` really is inside the root, or nil when it is not a directory.
    private func directoryURL(_ path: String) -> URL? {
        guard let components = try? tree.resolvedComponents(path) else { return nil }
        guard !components.isEmpty else { return root }
        guard let found = tree.entry(at: components), found.isDirectory else { return nil }
        return found.url
    }

    static func isGlob(_ path: String) -> Bool { path.contains { "*?[".contains($0) } }

    /// Whether `..` components never climb above the root (cleaning would silently clamp them).
    private static func staysInside(_ source: String) -> Bool {
        var depth = 0
        for part in source.split(separator: "/") where part != "." {
            depth += part == ".." ? -1 : 1
            if depth < 0 { return false }
        }
        return true
    }
}

extension Instruction {
    /// - Parameters:
    ///   - cause: the error behind it, kept as a value; its text follows `message`.
    ///   - category: when nil, the cause's (if it says one), else invalid input.
    func failure(_ message: String, cause: (any Error)? = nil, category: ErrorCategory? = nil) -> DockerfileError {
        DockerfileError(location: location, instruction: name, message: message, cause: cause, category: category)
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
