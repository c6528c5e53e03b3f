import SlipwayKernel

extension RecipeInterpreter {
    /// Calls a hook with `arguments` under the hook budgets; returns its first result and what
    /// it logged. The stack is left as it was.
    func invoke(_ hook: HookReference, arguments: [ConfigValue]) throws -> HookResult {
        guard let function = hooks[hook.id]?.function else {
            throw RecipeError(kind: .invalid, location: hook.location, message: "hook '\(hook.name)' does not belong to this recipe session")
        }
        messages = []
        notifications = []
        defer { notifications = nil }
        let stack = state.main
        let base = stack.top
        defer { stack.pop(stack.top - base) }
        state.withHostAllowance {
            function.push()
            for argument in arguments { push(argument, on: stack) }
        }
        try protectedCall(
            arguments: Int32(arguments.count), results: 1, instructions: limits.hookInstructions, fallback: hook.location)
        let value: ConfigValue
        do {
            value = try state.withHostAllowance {
                try readValue(at: -1, on: stack, path: [.key(hook.name)], functionsAllowed: false)
            }
        } catch {
            throw RecipeError(kind: .invalid, location: hook.location, message: "\(error)")
        }
        return HookResult(value: value, messages: messages, notifications: notifications ?? [])
    }

    /// Calls a task's `pipeline(run)` and assembles the steps it returns (a list of steps, or
    /// `pipeline { ... }`) into a validated pipeline with the task's hooks and timeout.
    /// - Throws: ``RecipeError`` or ``PipelineValidationError``.
    func pipeline(for task: TaskDefinition, run: RunInfo) throws -> PipelineDefinition {
        guard let function = hooks[task.pipeline.id]?.function else {
            throw RecipeError(kind: .invalid, location: task.location, message: "task '\(task.name)' has no pipeline function")
        }
        resetDefinitions()
        messages = []
        setGlobal("run", run.configValue)
        let stack = state.main
        let base = stack.top
        defer { stack.pop(stack.top - base) }
        state.withHostAllowance {
            function.push()
            push(run.configValue, on: stack)
        }
        try protectedCall(arguments: 1, results: 1, instructions: limits.evaluationInstructions, fallback: task.pipeline.location)
        var pipeline: PipelineDefinition
        if let handle = handle(at: -1), Handle.Tag(rawValue: handle.tag) == .pipeline {
            pipeline = pipelines[Int(handle.index)]
        } else {
            let roots: [StepID]
            do {
                let value = try state.withHostAllowance {
                    try readValue(at: -1, on: stack, path: [.key("pipeline")], functionsAllowed: false)
                }
                roots = try ConfigValueDecoder().decode([StepID].self, from: value, path: [.key("pipeline(run)")])
            } catch {
                throw RecipeError(
                    kind: .invalid, location: task.pipeline.location,
                    message: "the task's pipeline function must return a list of steps or pipeline { ... }: \(error)")
            }
            pipeline = assemble(
                name: task.name, roots: roots, timeout: nil, onSuccess: nil, onFailure: nil, location: task.pipeline.location)
        }
        pipeline.timeout = pipeline.timeout ?? task.timeout
        pipeline.onSuccess = pipeline.onSuccess ?? task.onSuccess
        pipeline.onFailure = pipeline.onFailure ?? task.onFailure
        try validate(pipeline)
        return pipeline
    }

    /// The generation `pipeline(for:)` last evaluated in: what a run's hooks belong to.
    var currentGeneration: Int32 { generation }

    /// Frees the hooks an evaluation of `pipeline(run)` made (never the file's own hooks,
    /// which every run uses): their Lua functions become garbage.
    func releaseHooks(of evaluation: Int32) {
        guard evaluation != fileGeneration else { return }
        hooks = hooks.filter { $0.value.generation != evaluation }
    }

    /// This session's hook with the same name and place as `stored`, which may come from
    /// another evaluation of the same recipe (a task stored as text and evaluated anew, maybe
    /// from another folder): the same name, line, and file name.
    func hook(like stored: HookReference) -> HookReference? {
        func fileName(_ path: String) -> Substring { path.split(separator: "/").last ?? Substring(path) }
        return hooks.values.filter {
            $0.reference.name == stored.name && $0.reference.location.line == stored.location.line
                && fileName($0.reference.location.file) == fileName(stored.location.file)
        }.max { $0.generation < $1.generation }?.reference
    }

    var liveHookCount: Int { hooks.count }
}
