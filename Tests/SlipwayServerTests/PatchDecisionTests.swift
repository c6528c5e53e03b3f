import Foundation
import SlipwayKernel
import SlipwayServer
import SlipwayStore
import Testing

/// What a base-image run does under each strategy, from the task's last build record alone.
struct PatchDecisionTests {
    static func image(_ kinds: [LayerOrigin.Kind], tags: [String] = ["reg/app:1"]) -> ImageRecord {
        ImageRecord(
            task: "app", run: "r1", reference: tags.first, digest: "sha256:app", platform: "linux/amd64",
            runtimeBase: BaseImage(reference: "reg/os:1", digest: "sha256:old"), buildTimeBases: [],
            layers: kinds.enumerated().map { LayerOrigin(kind: $1, digest: "sha256:l\($0)") }, tags: tags, recorded: Date())
    }

    static func facts(_ strategy: String, scope: String = "runtime", base: String = "reg/os:1") -> [String: String] {
        ["strategy": strategy, "base_scope": scope, "base_image": base, "base_digest": "sha256:new"]
    }

    @Test func autoRebasesOnlyWhatTheRecordProvesSafe() {
        let safe = PatchDecision.decide(facts: Self.facts("auto"), image: Self.image([.base, .copy, .meta]))
        #expect(safe.action == .rebase)
        #expect(safe.rebase == .object([
            "image": .string("reg/app:1@sha256:app"), "base": .string("reg/os:1"), "old_base": .string("reg/os:1@sha256:old"),
            "tags": .array([.string("reg/app:1")]),
        ]))
        let ran = PatchDecision.decide(facts: Self.facts("auto"), image: Self.image([.base, .run, .copy]))
        #expect(ran.action == .rebuild && ran.reason.contains("layer 1 of the last image came from RUN"))
        #expect(PatchDecision.decide(facts: Self.facts("auto"), image: nil).action == .rebuild)
        #expect(PatchDecision.decide(facts: Self.facts("auto", scope: "build", base: "reg/sdk:1"), image: Self.image([.base, .copy])).reason
            .contains("a build-time base (reg/sdk:1) changed"))
        #expect(PatchDecision.decide(facts: Self.facts("auto"), image: Self.image([.base, .copy], tags: [])).action == .rebuild)
    }

    @Test func rebaseRefusesWhatAutoWouldRebuild() {
        #expect(PatchDecision.decide(facts: Self.facts("rebase"), image: Self.image([.base, .run])).action == .refuse)
        #expect(PatchDecision.decide(facts: Self.facts("rebase"), image: Self.image([.base, .add])).action == .rebase)
        #expect(PatchDecision.decide(facts: Self.facts("rebuild"), image: Self.image([.base, .copy])).action == .rebuild)
        #expect(PatchDecision.decide(facts: [:], image: Self.image([.base, .copy])).action == .rebuild)
    }
}
