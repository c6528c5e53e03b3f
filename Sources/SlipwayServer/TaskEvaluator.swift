import Foundation
public import SlipwayKernel
import SlipwayLua
public import SlipwayStore
import SlipwayACR

/// Turns a stored task into an ``EvaluatedTask``, in a fresh sandbox each time: for each run,
/// and whenever the triggers are read again after the task changed. A Lua task is its recipe's
/// text and values; an acr-task.yaml is its text, values and settings (source and triggers).
public struct TaskEvaluator: Sendable {
    public let registry: PluginRegistry
    /// `require` roots of stored recipes (`serve --lib`).
    public let libraryRoots: [String]

    public init(registry: PluginRegistry, libraryRoots: [String] = []) {
        self.registry = registry
        self.libraryRoots = libraryRoots
    }

    /// The name stored tasks' messages use: `task:NAME.lua` or `task:NAME.yaml`.
    public static func file(of task: String, format: String = "lua") -> String {
        format == ACRTaskFile.format ? "task:\(task).yaml" : "task:\(task).lua"
    }

    /// Evaluates `record` with `run` visible as `run` (its values already the task's merged with
    /// the run's own: ``merge(_:_:)``).
    /// - Parameter naming: the recipe names the task (a new one: `record.name` only names its
    ///   messages); otherwise a Lua recipe must name it `record.name`.
    /// - Throws: ``ServerError`` when the recipe is not a task, or names another; recipe and
    ///   task-file errors (file:line) as they are.
    public func evaluate(_ record: TaskRecord, run: RunInfo, naming: Bool = false) throws -> EvaluatedTask {
        switch record.format {
        case "lua":
            let file = Self.file(of: record.name)
            let session = try RecipeSession(text: record.text, file: file, registry: registry, run: run, libraryRoots: libraryRoots)
            guard case .task(let task) = session.recipe else {
                throw ServerError(.invalidInput, "\(file): the recipe returns a pipeline; a stored task must return task { … }")
            }
            guard naming || task.name == record.name else {
                throw ServerError(.invalidInput, "\(file): the recipe's task is named '\(task.name)', not '\(record.name)'")
            }
            return EvaluatedTask(session: session, task: task)
        case ACRTaskFile.format:
            return try EvaluatedTask(name: record.name, text: record.text, settings: try ACRTaskSettings(from: record.settings ?? .object([:])))
        default:
            throw ServerError(.invalidInput, "task '\(record.name)': format '\(record.format)' is neither lua nor \(ACRTaskFile.format)")
        }
    }

    /// Checks a task as it would be stored: it evaluates, its triggers are triggers, and an
    /// acr-task.yaml renders (for a run with no trigger facts; serve's secrets are not known
    /// here, so a template that reads one renders it empty).
    /// - Parameter naming: as for ``evaluate(_:run:naming:)``; the result's `name` is the task's.
    public func check(_ record: TaskRecord, naming: Bool = false) throws -> EvaluatedTask {
        let info = RunInfo(id: "create", trigger: "check", values: record.values)
        let task = try evaluate(record, run: info, naming: naming)
        for trigger in task.triggers {
            let plugin = try registry.instantiate(trigger.kind, configuration: trigger.configuration)
            guard plugin is any Trigger else { throw ServerError(.invalidInput, "\(trigger.location): '\(trigger.kind)' is not a trigger") }
        }
        _ = try task.renderedTaskFile(for: info, secrets: [:])
        return task
    }

    /// `top`'s fields over `base`'s, nested objects merged.
    public static func merge(_ base: ConfigValue, _ top: ConfigValue) -> ConfigValue {
        guard case .object(var fields) = base, case .object(let over) = top else { return top == .object([:]) ? base : top }
        for (key, value) in over {
            fields[key] = fields[key].map { merge($0, value) } ?? value
        }
        return .object(fields)
    }
}
