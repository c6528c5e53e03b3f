import Foundation
public import SlipwayKernel
public import SlipwayStore

/// How a base-image run of a task is answered under its trigger's `strategy`: the task's own
/// pipeline (a rebuild), or a rebase of its last image onto the new base — and why. Decided from
/// the task's last build record alone, before anything runs.
public struct PatchDecision: Sendable, Hashable {
    public enum Action: String, Sendable {
        /// Run the task's pipeline.
        case rebuild
        /// Run one `rebase` step instead.
        case rebase
        /// `strategy = "rebase"` and the record does not prove it safe: the run fails.
        case refuse
    }

    public var action: Action
    public var reason: String
    /// The `rebase` step's configuration, for `.rebase`.
    public var rebase: ConfigValue?

    /// - Parameters:
    ///   - facts: the base-image event's (`strategy`, `base_image`, `base_scope`).
    ///   - image: the task's last recorded image.
    public static func decide(facts: [String: String], image: ImageRecord?) -> PatchDecision {
        let strategy = facts["strategy"] ?? "rebuild"
        guard strategy != "rebuild" else { return PatchDecision(action: .rebuild, reason: "the trigger's strategy is rebuild") }
        func unsafe(_ reason: String) -> PatchDecision {
            strategy == "auto" ? PatchDecision(action: .rebuild, reason: reason) : PatchDecision(action: .refuse, reason: reason)
        }
        guard let image, let layers = image.layers else { return unsafe("there is no build record of the task's last image") }
        guard let base = image.runtimeBase, facts["base_scope"] == "runtime", facts["base_image"] == base.reference else {
            return unsafe("a build-time base (\(facts["base_image"] ?? "?")) changed; a rebase replaces only the runtime base")
        }
        guard let tag = image.tags.first else { return unsafe("the last image has no tag to rebase") }
        let baseCount = layers.prefix { $0.kind == .base }.count
        if let index = layers.indices.dropFirst(baseCount).first(where: { ![.copy, .add, .meta].contains(layers[$0].kind) }) {
            return unsafe("layer \(index) of the last image came from \(layers[index].kind.rawValue.uppercased()), whose result depends on the old base")
        }
        let above = layers.count - baseCount
        return PatchDecision(
            action: .rebase,
            reason: "the \(above) layer(s) above the base came from COPY, ADD or metadata (build record of run \(image.run))",
            rebase: .object([
                "image": .string("\(tag)@\(image.digest)"),
                "base": .string(base.reference),
                "old_base": .string("\(base.reference)@\(base.digest)"),
                "tags": .array(image.tags.map(ConfigValue.string)),
            ]))
    }

    /// `pipeline` (the task's, for its name, hooks and timeout) with its steps replaced by the
    /// rebase.
    public func pipeline(replacing pipeline: PipelineDefinition, task: String) -> PipelineDefinition {
        guard action == .rebase, let rebase else { return pipeline }
        var replaced = pipeline
        replaced.steps = [StepDefinition(
            id: StepID("rebase"), kind: "rebase", configuration: rebase, location: SourceLocation(file: "task \(task): base_image strategy", line: 0))]
        return replaced
    }
}
