public import SlipwayKernel

/// `pull_request { branch = "main" }`: a run for each pull request opened, reopened or pushed
/// to, delivered by the Git server's webhook (`/hooks/git/{task}`). The run builds the pull
/// request's head commit; `run.pull_request` is its number and `run.commit` the head sha.
/// Off unless a task declares it: pull requests carry untrusted code.
///
/// It does not poll: a check reports nothing, and `slipway task show` says it waits for webhooks.
public struct PullRequestTrigger: PluginKind, Trigger {
    public struct Configuration: Decodable, Sendable {
        /// Only pull requests into this branch; default: any.
        public var branch: String?
    }

    public static let kind = "pull_request"
    public static let summary = "start runs for pull requests delivered by webhook: pull_request { branch = \"main\" }"
    public let branch: String?

    public init(configuration: Configuration) throws {
        if let branch = configuration.branch, branch.isEmpty || branch.contains(where: \.isWhitespace) {
            throw ConfigurationError(path: [.key("branch")], message: "'\(branch)' is not a branch name")
        }
        branch = configuration.branch
    }

    public func check(after version: Version?, in context: StepContext) async throws -> [TriggerEvent] { [] }
}
