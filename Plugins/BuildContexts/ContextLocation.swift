public import Foundation
public import SlipwayKernel
import SlipwayOCI

/// Where a build context comes from, read from what a user types: a Git locator
/// (`https://host/repo.git#main:app`, `git@host:repo#v1`, `file:///srv/repo#pull/7/head`), an
/// http(s) tarball URL, a folder of the run's shared workspace (`workspace:PATH`, what `cmd`
/// steps see at `/workspace/PATH`), or else a local folder.
public enum ContextLocation: Sendable, Hashable, CustomStringConvertible {
    case local(URL)
    case git(GitLocator)
    case tarball(String)
    case workspace(String)

    public static let workspacePrefix = "workspace:"

    public init(parsing text: String) throws {
        if text.hasPrefix(Self.workspacePrefix) {
            self = .workspace(String(text.dropFirst(Self.workspacePrefix.count)))
        } else if TarballLocator.isTarball(text) {
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
        case .workspace(let path): Self.workspacePrefix + path
        }
    }

    /// The context on disk. Local folders are used where they are; remote ones are fetched into
    /// `scratch` (a folder the caller removes afterwards). A workspace folder is found inside
    /// `workspace`: containers wrote it, so a link they planted (`app -> /etc`) cannot lead the
    /// context out to the host's files.
    public func materialize(
        scratch: URL, workspace: URL? = nil, tarballLimit: Int64 = TarballCheckout.defaultLimit
    ) async throws -> MaterializedContext {
        switch self {
        case .workspace(let path):
            guard let workspace else {
                throw GitCheckout.Failure(description: "\(self): there is no run workspace here (workspace: contexts are for slipway run)")
            }
            let found: RootedEntry?
            do {
                found = try DirectoryTree(root: workspace).locate(path)
            } catch {
                throw GitCheckout.Failure(description: "\(self): \(error)")
            }
            guard let found, found.isDirectory else {
                throw GitCheckout.Failure(description: "\(self): no such folder in the run's workspace (a cmd step writes it at /workspace/\(path))")
            }
            return MaterializedContext(directory: found.url.path)
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
