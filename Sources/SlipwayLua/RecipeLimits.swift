/// The budgets a recipe evaluation and each hook call run under. Hitting one is a
/// `RecipeError` naming the recipe, never a hang or a crash.
public struct RecipeLimits: Sendable, Hashable {
    /// Lua VM instructions for evaluating the recipe file (and for `pipeline(run)`).
    public var evaluationInstructions: Int64
    /// Lua VM instructions for one hook call (`on_failure`, `filter`...).
    public var hookInstructions: Int64
    /// Wall-clock budget of one entry into Lua; catches slow C library calls the instruction
    /// count does not see.
    public var seconds: Double
    /// Bytes the interpreter may hold.
    public var memoryBytes: Int

    public init(
        evaluationInstructions: Int64 = 100_000_000, hookInstructions: Int64 = 20_000_000, seconds: Double = 10,
        memoryBytes: Int = 64 << 20
    ) {
        self.evaluationInstructions = evaluationInstructions
        self.hookInstructions = hookInstructions
        self.seconds = seconds
        self.memoryBytes = memoryBytes
    }
}
