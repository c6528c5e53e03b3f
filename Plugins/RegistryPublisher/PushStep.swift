import Foundation
import Logging
public import SlipwayKernel
import SlipwayOCI

/// `push { img }` or `push { img, tags = { "reg/app:latest", "oci:/srv/layouts/app:1" } }`:
/// publishes each input step's image (its `digest` output) from the host's store to the
/// input's tags, or to `tags` when given. A registry reference goes through the
/// ``RegistryPublisher`` (blobs the registry has are not sent again); `oci:PATH[:TAG]` through
/// the ``OCILayoutPublisher``.
public struct PushStep: PluginKind, StepRunner {
    public struct Configuration: Decodable, Sendable {
        public var inputs: [StepID]
        public var tags: [String]?
    }

    public static let kind = "push"
    public static let summary = "push built images to registries or OCI layouts"
    private let inputs: [StepID]
    private let tags: [String]?

    public init(configuration: Configuration) throws {
        guard !configuration.inputs.isEmpty else {
            throw ConfigurationError(path: [.key("inputs")], message: "push needs the step(s) whose image to push: push { img }")
        }
        inputs = configuration.inputs
        tags = configuration.tags
        for (index, tag) in (configuration.tags ?? []).enumerated() {
            do {
                _ = try Self.publishers(for: [tag])
            } catch let error as ConfigurationError {
                throw ConfigurationError(path: [.key("tags"), .index(index + 1)], message: error.message)
            }
        }
    }

    /// The publishers for `destinations`: one for all registry references, one per layout.
    static func publishers(for destinations: [String]) throws -> [any Publisher] {
        let layouts = destinations.filter { $0.hasPrefix("oci:") }
        let references = try destinations.filter { !$0.hasPrefix("oci:") }.map { text in
            do {
                return try ImageReference(parsing: text)
            } catch {
                throw ConfigurationError(path: [], message: "\(error)")
            }
        }
        return try layouts.map { try OCILayoutPublisher(destination: $0) } + (references.isEmpty ? [] : [RegistryPublisher(destinations: references)])
    }

    public func run(in context: StepContext) async throws -> StepOutput {
        var pushed: [ConfigValue] = []
        for input in inputs {
            guard let output = context.inputs[input], case .string(let digest)? = output.fields["digest"] else {
                throw StepFailure(step: context.stepID, message: "step '\(input)' produced no image to push")
            }
            let declared: [String] = output.fields["tags"].flatMap { value -> [String]? in
                guard case .array(let items) = value else { return nil }
                return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
            } ?? []
            let destinations = tags ?? declared
            guard !destinations.isEmpty else {
                throw StepFailure(step: context.stepID, message: "step '\(input)' has no tags; give push { ..., tags = { ... } }")
            }
            for publisher in try Self.publishers(for: destinations) {
                let result = try await publisher.publish(digest: digest, in: context)
                pushed += result.destinations.keys.sorted().map { .string($0) }
            }
        }
        return StepOutput(["pushed": .array(pushed)])
    }
}
