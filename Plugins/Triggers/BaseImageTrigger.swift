public import SlipwayKernel

/// `base_image { scope = "runtime" }`: a run when a base the task's last image was built on
/// names a new digest (for that image's platform). `scope = "all"` also watches build-time
/// bases (other stages' FROM, `COPY --from` images). The bases and the registry come from the
/// host (``BaseImageWatch``); a task with no recorded image yet has nothing to watch.
///
/// The version is the set of new digests, so one base digest starts one run however often it
/// is reported; a base pushed again with the same content changes nothing.
public struct BaseImageTrigger: PluginKind, Trigger {
    public struct Configuration: Decodable, Sendable {
        public var scope: String?
    }

    public enum Scope: String, Sendable, CaseIterable {
        case runtime, all
    }

    public static let kind = "base_image"
    public static let summary = "start runs when a recorded base image names a new digest: base_image { scope = \"runtime\" | \"all\" }"
    public let scope: Scope

    public init(configuration: Configuration) throws {
        guard let scope = Scope(rawValue: configuration.scope ?? "runtime") else {
            throw ConfigurationError(path: [.key("scope")], message: "'\(configuration.scope ?? "")' is not a scope (runtime or all)")
        }
        self.scope = scope
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
            facts: ["base_image": first, "base_digest": changed[first]!, "base_previous_digest": previous[first]!])]
    }
}
