import Foundation
import Glibc

/// `.dockerignore` rules (moby's patternmatcher semantics): one pattern a line, `#` comments,
/// `!` re-includes, `*` `?` `[...]` within a path segment, `**` across any number of
/// segments. The last rule that matches a path (or one of its parent directories) decides.
public struct DockerIgnore: Sendable, Hashable {
    struct Rule: Sendable, Hashable {
        var segments: [String]
        var exclusion: Bool
    }

    private let rules: [Rule]

    public init(_ text: String) {
        rules = text.split(whereSeparator: \.isNewline).compactMap { raw in
            var line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
            var exclusion = false
            if line.hasPrefix("!") {
                exclusion = true
                line = String(line.dropFirst()).trimmingCharacters(in: .whitespaces)
            }
            let segments = Self.clean(line)
            return segments.isEmpty ? nil : Rule(segments: segments, exclusion: exclusion)
        }
    }

    /// No rules: nothing excluded.
    public static let none = DockerIgnore("")

    public var isEmpty: Bool { rules.isEmpty }

    /// The rules for a build: `<Dockerfile>.dockerignore` beside the Dockerfile when present,
    /// else `.dockerignore` at the context root, else none.
    /// - Parameters:
    ///   - dockerfile: the Dockerfile's path as given (relative to the context, or absolute).
    ///   - read: the text of a file by that kind of path, or nil when there is none; the caller
    ///     decides how a context path is found (inside the context's root, never through a link
    ///     that leaves it).
    public static func load(dockerfile: String, reading read: (String) throws -> String?) throws -> DockerIgnore {
        for candidate in [dockerfile + ".dockerignore", ".dockerignore"] {
            if let text = try read(candidate) { return DockerIgnore(text) }
        }
        return .none
    }

    /// Whether `path` (relative to the context root, `/`-separated) is left out.
    public func excludes(_ path: String) -> Bool {
        let target = Self.clean(path)
        guard !target.isEmpty else { return false }
        var excluded = false
        for rule in rules {
            // A rule matching a parent directory covers everything below it.
            let matched = (1...target.count).contains { Self.match(rule.segments[...], Array(target.prefix($0))[...]) }
            if matched { excluded = !rule.exclusion }
        }
        return excluded
    }

    /// Whether anything below `directory` could be re-included by a `!` rule (so the walk must
    /// descend into an excluded directory).
    public func mayReinclude(below directory: String) -> Bool {
        let prefix = Self.clean(directory)
        return rules.contains { rule in
            rule.exclusion && (rule.segments.contains("**") || rule.segments.count >= prefix.count
                && zip(rule.segments, prefix).allSatisfy { pattern, name in Self.segmentMatches(pattern, name) })
        }
    }

    /// Whether `path` matches the glob `pattern` (`*`, `?`, `[...]` per segment, `**` across
    /// segments), both relative to the same root. Used for COPY sources.
    public static func glob(_ pattern: String, matches path: String) -> Bool {
        match(clean(pattern)[...], clean(path)[...])
    }

    /// `/a/./b/../c/` → `a/c`: the form COPY sources, destinations and ignore rules compare in.
    public static func cleanPath(_ path: String) -> String { clean(path).joined(separator: "/") }

    /// `./a//b/../c/` → ["a", "c"]; a leading `/` is the context root.
    static func clean(_ path: String) -> [String] {
        var segments: [String] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." {
                if !segments.isEmpty { segments.removeLast() }
            } else {
                segments.append(String(part))
            }
        }
        return segments
    }

    static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            let rest = pattern.dropFirst()
            // `**` absorbs zero or more segments.
            return (0...path.count).contains { match(rest, path.dropFirst($0)) }
        }
        guard let name = path.first, segmentMatches(head, name) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    static func segmentMatches(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}
