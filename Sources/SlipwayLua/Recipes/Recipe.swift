public import SlipwayKernel

/// What a recipe file evaluates to.
public enum Recipe: Sendable, Hashable {
    /// `return pipeline { ... }`: one graph, run as is.
    case pipeline(PipelineDefinition)
    /// `return task { ... }`: triggers plus a `pipeline(run)` function evaluated per run.
    case task(TaskDefinition)

    public var name: String {
        switch self {
        case .pipeline(let pipeline): pipeline.name
        case .task(let task): task.name
        }
    }
}
