import Foundation
import Logging
public import SlipwayKernel
import SlipwayOCI

/// `push { img }` or `push { img, tags = { "reg/app:latest" } }`: sends each input step's image
/// (its `digest` output) from Slipway's store to the input's tags, or to `tags` when given.
/// Blobs the registry has are not sent again.
public struct PushStep: PluginKind, StepRunner {
    public struct Configuration: Decodable, Sendable {
        public var inputs: [StepID]
        public var tags: [String]?
    }

    public static let kind = "push"
    public static let summary = "push built images to registries"
    private let inputs: [StepID]
    private let tags: [ImageReference]?

    public init(configuration: Configuration) throws {
        guard !configuration.inputs.isEmpty else {
            throw ConfigurationError(path: [.key("inputs")], message: "push needs the step(s) whose image to push: push { img }")
        }
        inputs = configuration.inputs
        do {
            tags = try configuration.tags.map { try $0.map(ImageReference.init(parsing:)) }
        } catch {
            throw ConfigurationError(path: [.key("tags")], message: "\(error)")
        }
    }

    public func run(in context: StepContext) async throws -> StepOutput {
        let store = try context.contentStore()
        let client = try context.registryClient()
        var pushed: [ConfigValue] = []
        for input in inputs {
            guard let output = context.inputs[input], case .string(let digestText)? = output.fields["digest"],
                let digest = try? Digest(parsing: digestText), let size = store.size(of: digest)
            else {
                throw StepFailure(step: context.stepID, message: "step '\(input)' produced no image to push")
            }
            let declared: [ImageReference] = (output.fields["tags"].flatMap { value -> [String]? in
                guard case .array(let items) = value else { return nil }
                return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
            } ?? []).compactMap { try? ImageReference(parsing: $0) }
            let destinations = tags ?? declared
            guard !destinations.isEmpty else {
                throw StepFailure(step: context.stepID, message: "step '\(input)' has no tags; give push { ..., tags = { ... } }")
            }
            // The media type the stored manifest declares (OCI or Docker), not an assumed one.
            let mediaType = (try? store.manifest(digest).mediaType) ?? nil
            let descriptor = Descriptor(mediaType: mediaType ?? MediaType.ociManifest, digest: digest, size: size)
            for destination in destinations {
                let report = try await client.push(descriptor, from: store, to: destination)
                context.logger.info("pushed \(destination): uploaded \(report.uploaded), already there \(report.skipped)")
                pushed.append(.string(destination.description))
            }
        }
        return StepOutput(["pushed": .array(pushed)])
    }
}
