import CLua
import CLuaShim
import Foundation
import SlipwayKernel

/// Evaluates one recipe in one sandboxed interpreter, and later calls its hooks.
/// Not `Sendable`: owned by a ``RecipeSession``.
final class RecipeInterpreter {
    /// A userdata a constructor returns: which kind of thing, and its index in our tables.
    struct Handle {
        enum Tag: Int32 { case step = 1, trigger, pipeline, task }
        var tag: Int32
        var index: Int32
        /// Which evaluation made it: a handle kept from an earlier `pipeline(run)` is refused.
        var generation: Int32
    }

    struct PendingStep {
        var id: StepID
        var kind: String
        var configuration: ConfigValue
        var options: ConfigValue
        var after: [StepID]
        var location: SourceLocation
    }

    static let handleMetatable = "slipway.handle"
    /// Globals a plugin kind may not take.
    static let reservedNames: Set<String> = [
        "pipeline", "task", "log", "print", "values", "run", "require", "load", "string", "table", "math", "utf8",
        "coroutine", "notify",
    ]

    let state: LuaState
    let registry: PluginRegistry
    let limits: RecipeLimits
    /// The recipe as the user named it (used in messages).
    let recipePath: String
    /// `require` roots: as the user would write them (for messages) and resolved.
    let moduleRoots: [(display: String, resolved: URL)]

    var steps: [PendingStep] = []
    var stepIndexByID: [StepID: Int] = [:]
    var autoIDCounters: [String: Int] = [:]
    var triggers: [TriggerDefinition] = []
    var pipelines: [PipelineDefinition] = []
    var pendingProblems: [PipelineValidationError.Problem] = []
    var tasks: [TaskDefinition] = []
    /// A recipe function kept alive as a hook, with its handle and the evaluation that made it
    /// (the file's own is ``fileGeneration``), so the hooks of one run's `pipeline(run)` can be
    /// freed when that run is over and a stored hook can be found again by name and place.
    struct Hook {
        var function: LuaReference
        var reference: HookReference
        var generation: Int32
    }

    var hooks: [Int: Hook] = [:]
    var fileGeneration: Int32 = 0
    /// The last hook id handed out. Ids are never reused: a reference kept from a released run
    /// must not come to name another function.
    var lastHookID = 0
    var generation: Int32 = 0
    var messages: [LogLine] = []
    /// What `notify { … }` asked for during the current hook call; nil outside hooks, where
    /// `notify` is refused.
    var notifications: [NotificationRequest]?
    /// Chunk names loaded so far, to map Lua's elided "...name" back to a path.
    var chunkNames: [String] = []

    /// - Parameters:
    ///   - recipePath: the recipe file.
    ///   - libraryRoots: extra `require` roots after the recipe's folder (typically Recipes/lib).
    /// - Throws: ``RecipeError`` when the file cannot be read; ``PluginError`` when a kind
    ///   collides with a recipe built-in.
    init(recipePath: String, registry: PluginRegistry, limits: RecipeLimits, libraryRoots: [String]) throws {
        self.recipePath = recipePath
        self.registry = registry
        self.limits = limits
        let folder = (recipePath as NSString).deletingLastPathComponent
        moduleRoots = ([folder.isEmpty ? "." : folder] + libraryRoots).map {
            ($0, URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath())
        }
        do {
            state = try LuaState(limits: limits)
        } catch {
            throw RecipeError(kind: .runtime, location: SourceLocation(file: recipePath, line: 0), message: "\(error)")
        }
        try installGlobals()
    }

    // MARK: Set-up

    private func installGlobals() throws {
        let stack = state.main
        try state.withHostAllowance {
            // The handle metatable: printable, read-only `.id` / `.kind` for steps.
            slipway_newmetatable(stack.L, Self.handleMetatable)
            state.push({ [unowned self] s in try self.handleIndex(s) }, on: stack)
            stack.rawSet(field: "__index", in: -2)
            state.push({ [unowned self] s in try self.handleToString(s) }, on: stack)
            stack.rawSet(field: "__tostring", in: -2)
            stack.push(string: "slipway step")
            stack.rawSet(field: "__name", in: -2)
            // Locked: a recipe may neither read nor change it (a __gc added here would make every
            // later handle finalisable, outside the limits).
            stack.push(bool: false)
            stack.rawSet(field: "__metatable", in: -2)
            stack.pop(1)

            slipway_pushglobaltable(stack.L)
            let globals = stack.top
            state.push({ [unowned self] s in try self.constructPipeline(s) }, on: stack)
            stack.rawSet(field: "pipeline", in: globals)
            state.push({ [unowned self] s in try self.constructTask(s) }, on: stack)
            stack.rawSet(field: "task", in: globals)
            state.push({ [unowned self] s in try self.notify(s) }, on: stack)
            stack.rawSet(field: "notify", in: globals)
            for entry in registry.all where entry.role == .step || entry.role == .trigger || entry.role == .contextSource {
                try installConstructor(entry, globals: globals)
            }
            stack.pop(1)
        }
        try runPrelude()
    }

    /// Installs `a.b.c` as a nested global constructor.
    private func installConstructor(_ entry: PluginRegistry.Entry, globals: Int32) throws {
        let stack = state.main
        let parts = entry.kind.split(separator: ".").map(String.init)
        guard !Self.reservedNames.contains(parts[0]) else {
            throw RecipeError(
                kind: .invalid, location: SourceLocation(file: recipePath, line: 0),
                message: "plugin kind '\(entry.kind)' collides with the recipe built-in '\(parts[0])'")
        }
        stack.pushValue(at: globals)
        for part in parts.dropLast() {
            if stack.rawGet(field: part, in: -1) != LUA_TTABLE {
                stack.pop(1)
                stack.newTable()
                stack.pushValue(at: -1)
                stack.rawSet(field: part, in: -3)
            }
            lua_rotate(stack.L, -2, 1)
            stack.pop(1)
        }
        let kind = entry.kind
        let role = entry.role
        state.push({ [unowned self] s in try self.construct(kind: kind, role: role, stack: s) }, on: stack)
        stack.rawSet(field: parts.last!, in: -2)
        stack.pop(1)
    }

    private func runPrelude() throws {
        let stack = state.main
        try state.load(SandboxPrelude.source, chunkName: SandboxPrelude.chunkName)
        state.withHostAllowance {
            stack.newTable()
            lua_getfield(stack.L, slipway_registryindex(), "slipway.rawload")
            stack.rawSet(field: "rawload", in: -2)
            state.push({ [unowned self] s in try self.findModule(s) }, on: stack)
            stack.rawSet(field: "find_module", in: -2)
            state.push({ [unowned self] s in try self.emitLog(s) }, on: stack)
            stack.rawSet(field: "log", in: -2)
        }
        try protectedCall(arguments: 1, results: 0, instructions: 0)
    }

    // MARK: Evaluation

    /// Evaluates the recipe file with `run` and `values` as globals.
    /// - Throws: ``RecipeError`` or ``PipelineValidationError``.
    func evaluate(run: RunInfo, text given: String? = nil) throws -> Recipe {
        let text: String
        if let given {
            guard given.utf8.count <= Self.maximumSourceBytes else {
                throw RecipeError(kind: .invalid, location: location(line: 0), message: "recipe is larger than 1 MiB")
            }
            text = given
        } else {
            text = try readRecipe()
        }
        return try evaluate(text: text, run: run)
    }

    private func readRecipe() throws -> String {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: recipePath))
            guard data.count <= Self.maximumSourceBytes else {
                throw RecipeError(kind: .invalid, location: location(line: 0), message: "recipe is larger than 1 MiB")
            }
            return String(decoding: data, as: UTF8.self)
        } catch let error as RecipeError {
            throw error
        } catch {
            throw RecipeError(kind: .invalid, location: location(line: 0), message: "cannot read recipe: \(error.localizedDescription)")
        }
    }

    private func evaluate(text: String, run: RunInfo) throws -> Recipe {
        resetDefinitions()
        fileGeneration = generation
        setGlobal("run", run.configValue)
        setGlobal("values", run.values)
        let stack = state.main
        let base = stack.top
        do {
            try state.load(text, chunkName: "@" + recipePath)
        } catch let error as LuaCallError {
            throw recipeError(error)
        }
        chunkNames.append(recipePath)
        try protectedCall(arguments: 0, results: 1, instructions: limits.evaluationInstructions)
        defer { stack.pop(stack.top - base) }
        if let handle = handle(at: -1) {
            switch Handle.Tag(rawValue: handle.tag) {
            case .pipeline:
                let pipeline = pipelines[Int(handle.index)]
                try validate(pipeline)
                return .pipeline(pipeline)
            case .task: return .task(tasks[Int(handle.index)])
            default: break
            }
        }
        throw RecipeError(
            kind: .invalid, location: location(line: 0),
            message: "a recipe must return pipeline { ... } or task { ... }, got \(describeTop())")
    }

    static let maximumSourceBytes = 1 << 20

    /// Starts an evaluation: the definitions of the last one were handed out as values, and
    /// its handles are stale from here on, so nothing of it is kept.
    func resetDefinitions() {
        generation += 1
        steps = []
        stepIndexByID = [:]
        autoIDCounters = [:]
        pendingProblems = []
        triggers = []
        pipelines = []
        tasks = []
    }

    private func describeTop() -> String {
        let stack = state.main
        if handle(at: -1) != nil { return "a step" }
        return stack.top == 0 ? "nothing" : stack.typeName(at: -1)
    }

    func setGlobal(_ name: String, _ value: ConfigValue) {
        let stack = state.main
        state.withHostAllowance {
            slipway_pushglobaltable(stack.L)
            push(value, on: stack)
            stack.rawSet(field: name, in: -2)
            stack.pop(1)
        }
    }

    func location(line: Int) -> SourceLocation { SourceLocation(file: recipePath, line: line) }

    /// Validates a pipeline assembled by `pipeline { ... }` or a task's `pipeline(run)`,
    /// together with the problems found while assembling it.
    func validate(_ pipeline: PipelineDefinition) throws {
        let problems = pendingProblems + PipelineValidator(registry: registry).problems(in: pipeline)
        if !problems.isEmpty { throw PipelineValidationError(problems: problems) }
    }
}
