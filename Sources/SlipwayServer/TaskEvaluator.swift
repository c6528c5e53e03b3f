import Foundation
public import SlipwayKernel
public import SlipwayLua
public import SlipwayStore

/// Turns a stored task (a recipe's text and values) into its definition, in a fresh sandbox each
/// time: for each run, and whenever the triggers are read again after the task changed.
public struct TaskEvaluator: Sendable {
    public let registry: PluginRegistry
    /// `require` roots of stored recipes (`serve --lib`).
    public let libraryRoots: [String]

    public init(registry: PluginRegistry, libraryRoots: [String] = []) {
        self.registry = registry
        self.libraryRoots = libraryRoots
    }

    /// The name stored recipes' messages use: `task:NAME`.
    public static func file(of task: String) -> String { "task:\(task).lua" }

    /// Evaluates `record` with `run` visible as `run` (its values already the task's merged with
    /// the run's own: ``merge(_:_:)``).
    /// - Throws: ``ServerError`` when the recipe is not a task, or names another; recipe errors
    ///   (file:line) as they are.
    public func evaluate(_ record: TaskRecord, run: RunInfo) throws -> (RecipeSession, TaskDefinition) {
        guard record.format == "lua" else {
            throw ServerError(.invalidInput, "task '\(record.name)': format '\(record.format)' cannot be evaluated (only Lua recipes are stored tasks)")
        }
        let session = try RecipeSession(
            text: record.text, file: Self.file(of: record.name), registry: registry, run: run, libraryRoots: libraryRoots)
        guard case .task(let task) = session.recipe else {
            throw ServerError(.invalidInput, "\(Self.file(of: record.name)): the recipe returns a pipeline; a stored task must return task { … }")
        }
        guard task.name == record.name else {
            throw ServerError(.invalidInput, "\(Self.file(of: record.name)): the recipe's task is named '\(task.name)', not '\(record.name)'")
        }
        return (session, task)
    }

    /// What a recipe's text defines, checked as a new task would be (its name is the recipe's).
    public func definition(text: String, values: ConfigValue, file: String) throws -> TaskDefinition {
        let session = try RecipeSession(
            text: text, file: file, registry: registry, run: RunInfo(id: "create", trigger: "check", values: values), libraryRoots: libraryRoots)
        guard case .task(let task) = session.recipe else {
            throw ServerError(.invalidInput, "\(file): the recipe returns a pipeline; a stored task must return task { … }")
        }
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
