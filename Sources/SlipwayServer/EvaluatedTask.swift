import Foundation
public import SlipwayKernel
public import SlipwayLua
import SlipwayACR
import SlipwayStore

/// A stored task made ready to watch and to run: its triggers, and how one run's pipeline is
/// made — by the Lua recipe's `pipeline(run)`, or by rendering the acr-task.yaml for the run.
public struct EvaluatedTask: Sendable {
    public let name: String
    public let triggers: [TriggerDefinition]
    /// A Lua task's sandbox: its pipeline function, hooks and trigger filters. An acr-task.yaml
    /// has none (its triggers come from the command line and have no filters).
    public let session: RecipeSession?
    /// What evaluating the task logged.
    public let messages: [LogLine]
    let taskFile: (text: String, settings: ACRTaskSettings)?

    init(session: RecipeSession, task: TaskDefinition) {
        name = task.name
        triggers = task.triggers
        self.session = session
        messages = session.messages
        taskFile = nil
    }

    init(name: String, text: String, settings: ACRTaskSettings) throws {
        self.name = name
        triggers = try settings.triggers(task: name)
        session = nil
        messages = []
        taskFile = (text, settings)
    }

    /// One run's pipeline, what making it logged, and the run's secrets (with what the task
    /// file adds to be masked).
    public func prepare(run: RunInfo, secrets: [String: String]) async throws -> (PipelineDefinition, [LogLine], [String: String]) {
        guard let rendered = try renderedTaskFile(for: run, secrets: secrets) else {
            guard let session else { throw ServerError(.internal, "task '\(name)' has neither a recipe nor a task file") }
            let (pipeline, logged) = try await session.pipeline(for: run)
            return (pipeline, messages + logged, secrets)
        }
        let (all, missing) = rendered.secrets(merging: secrets)
        if let id = missing.first {
            throw ServerError(
                .invalidInput,
                "\(TaskEvaluator.file(of: name, format: ACRTaskFile.format)): secret '\(id)' is declared in secrets but serve was not given it (--secret id=\(id),env=VAR)")
        }
        return (rendered.pipeline, rendered.warnings.map { LogLine(step: nil, level: .warning, text: $0) }, all)
    }

    /// An acr-task.yaml rendered for `run`, its relative contexts inside the task's source; nil
    /// for a Lua task.
    func renderedTaskFile(for run: RunInfo, secrets: [String: String]) throws -> ACRTaskFile? {
        guard let taskFile else { return nil }
        return try ACRTaskFile(
            text: taskFile.text, file: TaskEvaluator.file(of: name, format: ACRTaskFile.format), run: run, secrets: secrets,
            contextRoot: try taskFile.settings.contextRoot(for: run))
    }
}
