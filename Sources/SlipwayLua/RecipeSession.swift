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

    /// The graph of one run: the pipeline itself, or a task's `pipeline(run)` result.
    /// - Returns: the definition and what the recipe logged while producing it.
    public func pipeline(for run: RunInfo) throws -> (PipelineDefinition, [LogLine]) {
        switch recipe {
        case .pipeline(let pipeline): return (pipeline, [])
        case .task(let task):
            let pipeline = try interpreter.pipeline(for: task, run: run)
            return (pipeline, interpreter.messages)
        }
    }

    public func invoke(_ hook: HookReference, arguments: [ConfigValue]) throws -> HookResult {
        try interpreter.invoke(hook, arguments: arguments)
    }

    /// Lua stack depth of the session's interpreter; tests assert it returns to zero after
    /// every bridge call.
    var stackDepth: Int32 { interpreter.state.main.top }
}
