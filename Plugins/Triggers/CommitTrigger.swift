import BuildContexts
public import SlipwayKernel

/// `commit { url = "https://git.example.com/app.git", branch = "main" }`: a run for each new
/// commit at the head of a branch, found by polling with `git ls-remote` (nothing is fetched;
/// the URL stays out of process titles, git never prompts). The version and the run's facts
/// carry the sha, so a run builds that commit even when the branch has moved on since.
public struct CommitTrigger: PluginKind, Trigger {
    public struct Configuration: Decodable, Sendable {
        public var url: String
        /// Default: the remote's default branch.
        public var branch: String?
    }

    public static let kind = "commit"
    public static let summary = "start runs on new commits of a Git branch: commit { url = …, branch = \"main\" }"
    let locator: GitLocator
    public let branch: String?

    public init(configuration: Configuration) throws {
        if let branch = configuration.branch {
            guard !branch.isEmpty, !branch.hasPrefix("-"), !branch.contains(".."), branch.allSatisfy({ !$0.isWhitespace && $0 != ":" && $0 != "~" && $0 != "^" }) else {
                throw ConfigurationError(path: [.key("branch")], message: "'\(branch)' is not a branch name")
            }
        }
        branch = configuration.branch
        do {
            var locator = try GitLocator(parsing: configuration.url)
            guard locator.ref == nil, locator.subdirectory == nil else {
                throw ConfigurationError(path: [.key("url")], message: "give the branch with branch = …, not in the URL")
            }
            locator.ref = configuration.branch.map { "refs/heads/\($0)" }
            self.locator = locator
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(path: [.key("url")], message: "\(error)")
        }
    }

    public func check(after version: Version?, in context: StepContext) async throws -> [TriggerEvent] {
        let sha = try await GitCheckout(locator).resolve()
        guard sha != version?.fields["sha"] else { return [] }
        var facts = ["commit": sha, "url": GitLocator.redacted(locator.url)]
        if let branch { facts["branch"] = branch }
        return [TriggerEvent(type: "commit", version: Version(["sha": sha]), facts: facts)]
    }
}
