public import Foundation
import Glibc
public import SlipwayKernel
import SlipwayRuntime

/// Fetches one commit of a repository with the `git` command, shallowly, into a folder, and
/// leaves a plain tree (no `.git`) as the build context.
///
/// The URL is written into the new repository's config file rather than passed as an argument,
/// so credentials in it never show in process titles; git never prompts (`GIT_TERMINAL_PROMPT=0`,
/// ssh in batch mode); and every message that could echo the URL is redacted.
public struct GitCheckout: Sendable {
    public let locator: GitLocator
    /// Keep the repository's `.git` (ADD --keep-git-dir); its remote URL is redacted first, so
    /// credentials in the URL never reach the files.
    public var keepsGitDirectory = false

    public init(_ locator: GitLocator) { self.locator = locator }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// - Returns: the context folder (the subdirectory, when the locator names one) and its facts:
    ///   `commit`, `commit_time`, `ref`, `branch`, `subdir`, `url` (redacted).
    public func materialize(into directory: URL) async throws -> MaterializedContext {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await git(["init", "-q", directory.path], in: nil)
        try writeRemote(into: directory)

        var facts: [String: String] = ["url": GitLocator.redacted(locator.url)]
        let ref = locator.ref ?? "HEAD"
        let shallow = try await git(["fetch", "--depth", "1", "--no-tags", "--end-of-options", "origin", ref], in: directory, allowFailure: true)
        if shallow.status == 0 {
            try await git(["-c", "advice.detachedHead=false", "checkout", "-q", "--detach", "FETCH_HEAD"], in: directory)
        } else if locator.isCommit {
            // Servers that refuse a sha "want" still serve the whole history.
            try await git(["fetch", "--no-tags", "--end-of-options", "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/pull/*:refs/remotes/pull/*"], in: directory)
            try await git(["-c", "advice.detachedHead=false", "checkout", "-q", "--detach", ref], in: directory)
        } else {
            throw failure("cannot fetch '\(ref)' from \(GitLocator.redacted(locator.url)): \(lastLines(shallow.stderr))")
        }
        facts["commit"] = try await git(["rev-parse", "HEAD"], in: directory).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        facts["commit_time"] = try await git(["log", "-1", "--format=%ct"], in: directory).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        facts["ref"] = ref
        if let branch = try await branchName(in: directory) { facts["branch"] = branch }
        if keepsGitDirectory {
            try await git(["config", "remote.origin.url", GitLocator.redacted(locator.url)], in: directory)
        } else {
            try FileManager.default.removeItem(at: directory.appendingPathComponent(".git"))
        }

        var context = directory
        if let subdirectory = locator.subdirectory {
            context = try inside(directory, subdirectory)
            facts["subdir"] = subdirectory
        }
        return MaterializedContext(directory: context.path, facts: facts)
    }

    /// The commit sha the ref names on the server now (`git ls-remote`, nothing fetched).
    public func resolve() async throws -> String {
        if locator.isCommit, let ref = locator.ref { return ref }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-git-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await git(["init", "-q", scratch.path], in: nil)
        try writeRemote(into: scratch)
        let ref = locator.ref ?? "HEAD"
        let output = try await git(["ls-remote", "--end-of-options", "origin", ref], in: scratch)
        let lines = output.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        // An exact ref first (refs/heads/main), then any ref that ends with the name.
        let match = lines.first { $0.count == 2 && ($0[1] == ref || $0[1] == "refs/heads/\(ref)" || $0[1] == "refs/tags/\(ref)" || $0[1] == "refs/\(ref)") }
            ?? lines.first { $0.count == 2 }
        guard let sha = match?.first else { throw failure("\(GitLocator.redacted(locator.url)) has no ref '\(ref)'") }
        return sha
    }

    /// The branch the checkout came from: the ref itself when it names one, or the remote's
    /// default branch when no ref was given.
    private func branchName(in directory: URL) async throws -> String? {
        if let ref = locator.ref {
            if locator.isCommit || ref.hasPrefix("pull/") || ref.hasPrefix("refs/pull/") || ref.hasPrefix("refs/tags/") { return nil }
            return ref.hasPrefix("refs/heads/") ? String(ref.dropFirst(11)) : ref
        }
        let output = try await git(["ls-remote", "--symref", "origin", "HEAD"], in: directory, allowFailure: true)
        guard let line = output.stdout.split(separator: "\n").first(where: { $0.hasPrefix("ref: refs/heads/") }) else { return nil }
        return line.dropFirst("ref: refs/heads/".count).split(separator: "\t").first.map(String.init)
    }

    /// The subdirectory, which must be a real folder of the checkout (no symlink on the way).
    private func inside(_ root: URL, _ subdirectory: String) throws -> URL {
        var current = root
        for part in subdirectory.split(separator: "/") {
            current = current.appendingPathComponent(String(part))
            var info = stat()
            guard lstat(current.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw failure("the repository has no folder '\(subdirectory)' at \(locator.ref ?? "its default branch") (or it is a symlink)")
            }
        }
        return current
    }

    private func writeRemote(into directory: URL) throws {
        let escaped = locator.url.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let section = "[remote \"origin\"]\n\turl = \"\(escaped)\"\n"
        let config = directory.appendingPathComponent(".git/config")
        let handle = try FileHandle(forWritingTo: config)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(section.utf8))
    }

    @discardableResult
    private func git(_ arguments: [String], in directory: URL?, allowFailure: Bool = false) async throws -> ExternalCommand.Output {
        var command = ExternalCommand("git", arguments, environment: [
            "GIT_TERMINAL_PROMPT": "0", "GIT_SSH_COMMAND": "ssh -o BatchMode=yes", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C",
        ], directory: directory)
        command.displayName = "git " + (arguments.first ?? "")
        let output = try await command.runAllowingFailure()
        guard output.status == 0 || allowFailure else {
            throw failure("git \(arguments.first ?? "") failed for \(locator): \(lastLines(output.stderr))")
        }
        return output
    }

    private func lastLines(_ text: String) -> String {
        redact(text.split(separator: "\n").suffix(3).joined(separator: " / "))
    }

    private func redact(_ text: String) -> String {
        text.replacingOccurrences(of: locator.url, with: GitLocator.redacted(locator.url))
    }

    private func failure(_ message: String) -> Failure { Failure(description: redact(message)) }
}
