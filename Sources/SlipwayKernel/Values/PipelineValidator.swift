/// Checks a pipeline before anything runs and reports every problem together: duplicate ids,
/// unknown or misused plugin kinds, configurations the plugin rejects, dependencies on unknown
/// steps, and cycles.
public struct PipelineValidator: Sendable {
    public let registry: PluginRegistry

    public init(registry: PluginRegistry) { self.registry = registry }

    public func problems(in pipeline: PipelineDefinition) -> [PipelineValidationError.Problem] {
        typealias Problem = PipelineValidationError.Problem
        var problems: [Problem] = []
        var firstLocation: [StepID: SourceLocation] = [:]
        for step in pipeline.steps {
            if let earlier = firstLocation[step.id] {
                problems.append(Problem(location: step.location, step: step.id, message: "duplicate step id (first used at \(earlier))"))
            } else {
                firstLocation[step.id] = step.location
            }
            do {
                guard let entry = registry.entry(step.kind) else { throw PluginError.unknownKind(step.kind) }
                guard entry.role == .step else { throw PluginError.wrongRole(step.kind, expected: .step) }
                let runner = try registry.stepRunner(for: step)
                if !step.options.env.isEmpty && !(runner is any EnvironmentConsumer) {
                    problems.append(Problem(location: step.location, step: step.id, message: "env: a '\(step.kind)' step runs no command to give an environment to"))
                }
                if let referencing = runner as? any PluginReferencing {
                    try referencing.checkReferences(in: registry)
                }
                if step.options.detach && !(runner is any DetachableStep) {
                    problems.append(Problem(location: step.location, step: step.id, message: "detach: a '\(step.kind)' step cannot run detached (only steps that start a service, such as cmd, can)"))
                }
            } catch {
                problems.append(Problem(location: step.location, step: step.id, message: String(describing: error)))
            }
            for dependency in step.dependencies where dependency == step.id {
                problems.append(Problem(location: step.location, step: step.id, message: "depends on itself"))
            }
        }
        for step in pipeline.steps {
            for dependency in step.dependencies where firstLocation[dependency] == nil {
                problems.append(Problem(location: step.location, step: step.id, message: "depends on unknown step '\(dependency)'"))
            }
        }
        for cycle in cycles(in: pipeline) {
            let path = (cycle + [cycle[0]]).map(\.rawValue).joined(separator: " → ")
            problems.append(Problem(location: pipeline.step(cycle[0])?.location, step: nil, message: "dependency cycle: \(path)"))
        }
        return problems
    }

    /// - Throws: ``PipelineValidationError`` with every problem, when there is any.
    public func validate(_ pipeline: PipelineDefinition) throws {
        let found = problems(in: pipeline)
        if !found.isEmpty { throw PipelineValidationError(problems: found) }
    }

    /// Each elementary cycle found by depth-first search, reported once (starting at its
    /// smallest id), ignoring self-loops (reported separately).
    func cycles(in pipeline: PipelineDefinition) -> [[StepID]] {
        var edges: [StepID: [StepID]] = [:]
        for step in pipeline.steps { edges[step.id, default: []] += step.dependencies.filter { $0 != step.id } }
        enum Mark { case visiting, done }
        var marks: [StepID: Mark] = [:]
        var stack: [StepID] = []
        var found: Set<[StepID]> = []
        func visit(_ id: StepID) {
            marks[id] = .visiting
            stack.append(id)
            for next in edges[id] ?? [] where edges[next] != nil {
                switch marks[next] {
                case .visiting:
                    let cycle = Array(stack[stack.lastIndex(of: next)!...])
                    let start = cycle.firstIndex(of: cycle.min()!)!
                    found.insert(Array(cycle[start...] + cycle[..<start]))
                case .done: break
                case nil: visit(next)
                }
            }
            stack.removeLast()
            marks[id] = .done
        }
        for step in pipeline.steps where marks[step.id] == nil { visit(step.id) }
        return found.sorted { $0.map(\.rawValue).joined() < $1.map(\.rawValue).joined() }
    }
}
