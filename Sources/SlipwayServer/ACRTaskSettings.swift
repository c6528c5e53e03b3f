import BuildContexts
import Foundation
public import SlipwayKernel
import SlipwayACR

/// What `az acr task create` takes on its command line and an acr-task.yaml cannot say: the
/// task's source and its triggers. Kept with the stored task as its settings.
public struct ACRTaskSettings: Sendable, Hashable, Decodable {
    /// An absolute folder, or a Git repository as `URL#branch[:subdir]` (branch `main` if none).
    public var context: String?
    /// Build the branch's new commits (polling and `/hooks/git/{task}`).
    public var commitTrigger: Bool
    /// Build pull requests into the branch (webhooks).
    public var pullRequestTrigger: Bool
    /// `runtime` or `all`: rebuild when a base recorded by the last successful run moves.
    public var baseImageTrigger: String?
    /// 5-field cron expressions, UTC.
    public var schedules: [String]

    public init(context: String? = nil, commitTrigger: Bool = false, pullRequestTrigger: Bool = false, baseImageTrigger: String? = nil, schedules: [String] = []) {
        self.context = context
        self.commitTrigger = commitTrigger
        self.pullRequestTrigger = pullRequestTrigger
        self.baseImageTrigger = baseImageTrigger
        self.schedules = schedules
    }

    public init(from value: ConfigValue) throws {
        self = try ConfigValueDecoder().decode(Self.self, from: value)
    }

    private enum CodingKeys: String, CodingKey {
        case context, commitTrigger, pullRequestTrigger, baseImageTrigger, schedules
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        context = try container.decodeIfPresent(String.self, forKey: .context)
        commitTrigger = try container.decodeIfPresent(Bool.self, forKey: .commitTrigger) ?? false
        pullRequestTrigger = try container.decodeIfPresent(Bool.self, forKey: .pullRequestTrigger) ?? false
        baseImageTrigger = try container.decodeIfPresent(String.self, forKey: .baseImageTrigger)
        schedules = try container.decodeIfPresent([String].self, forKey: .schedules) ?? []
    }

    /// As stored (snake_case keys, as recipes write them).
    public var value: ConfigValue {
        var fields: [String: ConfigValue] = [
            "commit_trigger": .bool(commitTrigger), "pull_request_trigger": .bool(pullRequestTrigger),
            "schedules": .array(schedules.map(ConfigValue.string)),
        ]
        if let context { fields["context"] = .string(context) }
        if let baseImageTrigger { fields["base_image_trigger"] = .string(baseImageTrigger) }
        return .object(fields)
    }

    /// The Git repository of the context, if it is one.
    func repository() throws -> GitLocator? {
        guard let context, GitLocator.looksLikeGit(context) else { return nil }
        do {
            return try GitLocator(parsing: context)
        } catch {
            throw ServerError(.invalidInput, "--context: \(error)")
        }
    }

    /// The triggers these settings declare, as a recipe's `task { triggers = … }` would.
    func triggers(task: String) throws -> [TriggerDefinition] {
        func location(_ option: String) -> SourceLocation { SourceLocation(file: "task \(task): \(option)", line: 0) }
        var triggers: [TriggerDefinition] = []
        let repository = try repository()
        if let context, repository == nil, !context.hasPrefix("/") {
            throw ServerError(.invalidInput, "--context: '\(context)' is neither an absolute folder nor a Git URL (URL#branch)")
        }
        let branch = repository.map { $0.ref ?? "main" }
        if commitTrigger {
            guard let repository, let branch else { throw ServerError(.invalidInput, "--commit-trigger: the task's --context must be a Git repository (URL#branch)") }
            triggers.append(TriggerDefinition(
                kind: "commit", configuration: .object(["url": .string(repository.url), "branch": .string(branch)]), filter: nil,
                location: location("--commit-trigger")))
        }
        if pullRequestTrigger {
            guard let branch else { throw ServerError(.invalidInput, "--pull-request-trigger: the task's --context must be a Git repository (URL#branch)") }
            triggers.append(TriggerDefinition(
                kind: "pull_request", configuration: .object(["branch": .string(branch)]), filter: nil, location: location("--pull-request-trigger")))
        }
        if let baseImageTrigger {
            triggers.append(TriggerDefinition(
                kind: "base_image", configuration: .object(["scope": .string(baseImageTrigger)]), filter: nil, location: location("--base-image-trigger")))
        }
        for cron in schedules {
            triggers.append(TriggerDefinition(kind: "schedule", configuration: .object(["cron": .string(cron)]), filter: nil, location: location("--schedule")))
        }
        return triggers
    }

    /// Where one run's relative build contexts are: the repository at the commit a trigger
    /// named (the branch head otherwise), or the folder.
    func contextRoot(for run: RunInfo) throws -> ContextRoot? {
        guard let context else { return nil }
        guard let repository = try repository() else { return ContextRoot(context) }
        var root = repository.url + "#" + (run.facts["commit"] ?? repository.ref ?? "main")
        if let subdirectory = repository.subdirectory { root += ":" + subdirectory }
        return ContextRoot(root)
    }
}
