import Foundation
import SlipwayKernel

/// Renders a pipeline for `slipway plan`.
enum PlanRenderer {
    /// Steps grouped by stage: a step's stage is one more than its latest dependency's.
    static func stages(_ pipeline: PipelineDefinition) -> [[StepDefinition]] {
        var stageOf: [StepID: Int] = [:]
        var remaining = pipeline.steps
        while !remaining.isEmpty {
            let before = remaining.count
            remaining.removeAll { step in
                let known = step.dependencies.compactMap { stageOf[$0] }
                guard known.count == step.dependencies.count else { return false }
                stageOf[step.id] = (known.max() ?? -1) + 1
                return true
            }
            if remaining.count == before { break }  // validated pipelines have no cycles
        }
        let count = (stageOf.values.max() ?? -1) + 1
        return (0..<count).map { stage in pipeline.steps.filter { stageOf[$0.id] == stage } }
    }

    static func text(_ pipeline: PipelineDefinition, task: TaskDefinition?) -> String {
        let groups = stages(pipeline)
        var out = "pipeline '\(pipeline.name)': \(pipeline.steps.count) step(s) in \(groups.count) stage(s)"
        if let timeout = pipeline.timeout { out += ", timeout \(timeout)" }
        out += "\n"
        if let task {
            out += "task '\(task.name)' (\(task.location))\n"
            for trigger in task.triggers {
                out += "  trigger \(trigger.kind) \(trigger.configuration)" + (trigger.filter != nil ? " with filter" : "") + "\n"
            }
        }
        let width = pipeline.steps.map { $0.id.rawValue.count + $0.kind.count + 3 }.max() ?? 0
        for (number, group) in groups.enumerated() {
            out += "stage \(number + 1)\n"
            for step in group {
                let label = "\(step.id) (\(step.kind))"
                var line = "  " + label.padding(toLength: width, withPad: " ", startingAt: 0)
                if !step.dependencies.isEmpty { line += "  after " + step.dependencies.map(\.rawValue).joined(separator: ", ") }
                let notes = optionNotes(step.options)
                if !notes.isEmpty { line += "  [" + notes.joined(separator: ", ") + "]" }
                line += "  " + step.location.description
                out += line + "\n"
            }
        }
        if let hook = pipeline.onSuccess { out += "on_success \(hook.location)\n" }
        if let hook = pipeline.onFailure { out += "on_failure \(hook.location)\n" }
        return out
    }

    static func optionNotes(_ options: StepOptions) -> [String] {
        var notes: [String] = []
        if let timeout = options.timeout { notes.append("timeout \(timeout)") }
        if options.retries > 0 { notes.append("retries \(options.retries)" + (options.retryDelay.map { " every \($0)" } ?? "")) }
        if let delay = options.startDelay { notes.append("start_delay \(delay)") }
        if options.repeat > 0 { notes.append("repeat \(options.repeat)") }
        if options.ignoreErrors { notes.append("ignore_errors") }
        if options.detach { notes.append("detach") }
        if !options.secrets.isEmpty { notes.append("secrets " + options.secrets.joined(separator: ",")) }
        return notes
    }

    static func dot(_ pipeline: PipelineDefinition) -> String {
        func quoted(_ text: String) -> String { "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\"" }
        var out = "digraph \(quoted(pipeline.name)) {\n  rankdir=LR;\n  node [shape=box];\n"
        for step in pipeline.steps {
            out += "  \(quoted(step.id.rawValue)) [label=\(quoted(step.id.rawValue + "\\n" + step.kind))];\n"
        }
        for step in pipeline.steps {
            for dependency in step.dependencies { out += "  \(quoted(dependency.rawValue)) -> \(quoted(step.id.rawValue));\n" }
        }
        return out + "}\n"
    }

    struct JSONPlan: Encodable {
        var serializationVersion = 1
        var pipeline: PipelineDefinition
        var task: TaskDefinition?
    }

    static func json(_ pipeline: PipelineDefinition, task: TaskDefinition?) throws -> String {
        try JSONOutput.render(JSONPlan(pipeline: pipeline, task: task))
    }
}
