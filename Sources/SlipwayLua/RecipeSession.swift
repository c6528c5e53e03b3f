public import SlipwayKernel

/// One evaluated recipe and the interpreter behind it, which later serves the recipe's hooks.
///
/// An actor: the Lua state inside is used by one task at a time and never leaves. Everything
/// it hands out is a `Sendable` value.
public actor RecipeSession: HookInvoker {
    /// What the recipe file evaluated to.
    public nonisolated let recipe: Recipe
    /// What evaluation logged (`print`, `log.*`, warnings such as steps left out of the graph).
    public nonisolated let messages: [LogLine]
    private let interpreter: RecipeInterpreter

    /// Evaluates `file` in a fresh sandbox.
    /// - Parameters:
    ///   - file: the recipe, as the user named it (messages use this path).
    ///   - registry: the plugins whose kinds become constructors.
    ///   - run: the facts visible as `run` and `values` while evaluating.
    ///   - libraryRoots: extra `require` roots after the recipe's folder (e.g. `Recipes/lib`).
    /// - Throws: ``RecipeError`` (file:line) or ``PipelineValidationError`` (all problems).
    public init(
        file: String, registry: PluginRegistry, run: RunInfo, limits: RecipeLimits = RecipeLimits(), libraryRoots: [String] = []
    ) throws {
        let interpreter = try RecipeInterpreter(recipePath: file, registry: registry, limits: limits, libraryRoots: libraryRoots)
        recipe = try interpreter.evaluate(run: run)
        messages = interpreter.messages
        self.interpreter = interpreter
    }

    /// Evaluates a recipe kept as text (a stored task) in a fresh sandbox; `file` is the name
    /// its messages use, and its folder is where `require` looks first.
    public init(
        text: String, file: String, registry: PluginRegistry, run: RunInfo, limits: RecipeLimits = RecipeLimits(), libraryRoots: [String] = []
    ) throws {
        let interpreter = try RecipeInterpreter(recipePath: file, registry: registry, limits: limits, libraryRoots: libraryRoots)
        recipe = try interpreter.evaluate(run: run, text: text)
        messages = interpreter.messages
        self.interpreter = interpreter
    }

    /// The graph of one run: the pipeline itself, or a task's `pipeline(run)` result.
    /// - Returns: the definition and what the recipe logged while producing it.
    public func pipeline(for run: RunInfo) throws -> (PipelineDefinition, [LogLine]) {
        switch recipe {
        case .pipeline(let pipeline): return (pipeline, [])
        case .task(let task):
            let pipeline = try interpreter.pipeline(for: task, run: run)
            evaluations[run.id] = interpreter.currentGeneration
            return (pipeline, interpreter.messages)
        }
    }

    public func invoke(_ hook: HookReference, arguments: [ConfigValue]) throws -> HookResult {
        try interpreter.invoke(hook, arguments: arguments)
    }

    /// Which evaluation of `pipeline(run)` made each run's pipeline, by run id.
    private var evaluations: [String: Int32] = [:]

    /// Frees what evaluating a task's `pipeline(run)` made for the run `runID` (its hooks),
    /// once the run is over; a session kept for many runs keeps only what later runs can use.
    public func release(run runID: String) {
        guard let evaluation = evaluations.removeValue(forKey: runID) else { return }
        interpreter.releaseHooks(of: evaluation)
    }

    /// This session's hook with the name and place of `stored`, a reference kept from another
    /// evaluation of the same recipe (a task stored as recipe text and evaluated anew); nil when
    /// the recipe no longer has it.
    public func hook(like stored: HookReference) -> HookReference? { interpreter.hook(like: stored) }

    /// How many hook functions the session keeps alive (for tests of `release(run:)`).
    var liveHookCount: Int { interpreter.liveHookCount }

    /// Lua stack depth of the session's interpreter; tests assert it returns to zero after
    /// every bridge call.
    var stackDepth: Int32 { interpreter.state.main.top }
}
