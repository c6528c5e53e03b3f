public import SlipwayKernel

/// `base_image { scope = "runtime" }`: a run when a base the task's last image was built on
/// names a new digest (for that image's platform). `scope = "all"` also watches build-time
/// bases (other stages' FROM, `COPY --from` images). The bases and the registry come from the
/// host (``BaseImageWatch``); a task with no recorded image yet has nothing to watch.
///
/// The version is the set of new digests, so one base digest starts one run however often it
/// is reported; a base pushed again with the same content changes nothing.
///
/// `strategy` says how the host answers the event: `rebuild` (the default) runs the task's
/// pipeline; `rebase` moves the last image onto the new base without running anything, and
/// fails when the build record does not prove that safe; `auto` rebases when it is proven safe
/// and rebuilds otherwise. The event carries it as the `strategy` fact.
public struct BaseImageTrigger: PluginKind, Trigger {
    public struct Configuration: Decodable, Sendable {
        public var scope: String?
        public var strategy: String?
    }

    public enum Scope: String, Sendable, CaseIterable {
        case runtime, all
    }

    public enum Strategy: String, Sendable, CaseIterable {
        case rebuild, rebase, auto
    }

    public static let kind = "base_image"
    public static let summary = "start runs when a recorded base image names a new digest: base_image { scope = \"runtime\" | \"all\", strategy = \"rebuild\" | \"rebase\" | \"auto\" }"
    public let scope: Scope
    public let strategy: Strategy

    public init(configuration: Configuration) throws {
        guard let scope = Scope(rawValue: configuration.scope ?? "runtime") else {
            throw ConfigurationError(path: [.key("scope")], message: "'\(configuration.scope ?? "")' is not a scope (runtime or all)")
        }
        guard let strategy = Strategy(rawValue: configuration.strategy ?? "rebuild") else {
            throw ConfigurationError(path: [.key("strategy")], message: "'\(configuration.strategy ?? "")' is not a strategy (rebuild, rebase or auto)")
        }
        self.scope = scope
        self.strategy = strategy
    }

    public func check(after version: Version?, in context: StepContext) async throws -> [TriggerEvent] {
        guard let watch = context.services[BaseImageWatchService.self] else {
            throw MissingServiceError(service: "recorded base images", step: context.stepID)
        }
        var bases = watch.runtimeBase.map { [$0] } ?? []
        if scope == .all { bases += watch.buildTimeBases }
        var changed: [String: String] = [:]
        var previous: [String: String] = [:]
        for base in bases where changed[base.reference] == nil {
            guard let current = try await watch.currentDigest(base.reference, watch.platform), current != base.digest else { continue }
            changed[base.reference] = current
            previous[base.reference] = base.digest
        }
        guard !changed.isEmpty else { return [] }
        let found = Version(changed)
        guard found != version else { return [] }
        // The first changed base (runtime first) names the event; all of them are in the version.
        let first = bases.first { changed[$0.reference] != nil }!.reference
        return [TriggerEvent(
            type: "base_image", version: found,
            facts: [
                "base_image": first, "base_digest": changed[first]!, "base_previous_digest": previous[first]!,
                "base_scope": first == watch.runtimeBase?.reference ? "runtime" : "build", "strategy": strategy.rawValue,
            ])]
    }
}
