public import Foundation
public import SlipwayKernel

/// Where a build context comes from, read from what a user types: a Git locator
/// (`https://host/repo.git#main:app`, `git@host:repo#v1`, `file:///srv/repo#pull/7/head`), an
/// http(s) tarball URL, or else a local folder.
public enum ContextLocation: Sendable, Hashable, CustomStringConvertible {
    case local(URL)
    case git(GitLocator)
    case tarball(String)

    public init(parsing text: String) throws {
        if TarballLocator.isTarball(text) {
            self = .tarball(text)
        } else if GitLocator.looksLikeGit(text) {
            self = .git(try GitLocator(parsing: text))
        } else {
            self = .local(URL(fileURLWithPath: text))
        }
    }

    public var description: String {
        switch self {
        case .local(let url): url.path
        case .git(let locator): locator.description
        case .tarball(let url): url
        }
    }

    /// The context on disk. Local folders are used where they are; remote ones are fetched into
    /// `scratch` (a folder the caller removes afterwards).
    public func materialize(scratch: URL, tarballLimit: Int64 = TarballCheckout.defaultLimit) async throws -> MaterializedContext {
        switch self {
        case .local(let url):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw GitCheckout.Failure(description: "\(url.path): the build context must be a folder, a Git URL (URL#ref:subdir) or an http(s) tarball URL")
            }
            return MaterializedContext(directory: url.path)
        case .git(let locator):
            return try await GitCheckout(locator).materialize(into: scratch.appendingPathComponent("context"))
        case .tarball(let url):
            return try await TarballCheckout(url: url, limit: tarballLimit).materialize(into: scratch.appendingPathComponent("context"))
        }
    }
}
