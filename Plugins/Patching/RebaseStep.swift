import Foundation
import Logging
public import SlipwayKernel
import SlipwayOCI

/// `rebase { image = REF, base = NEW_BASE, tags = { … } }`: moves an image onto the new
/// content of its base without running anything, when that is provably the same as a rebuild —
/// the image's lowest layers are exactly the old base's, and every layer above came from COPY,
/// ADD or metadata by Slipway's own build record (or, for an image built elsewhere, by its
/// history with `force = true`). Every blob is reused (HEAD checks, cross-repository mounts);
/// only a config and manifests are written. Anything unsafe is refused with the reason.
public struct RebaseStep: PluginKind, StepRunner {
    public struct Configuration: Decodable, Sendable {
        /// The image to rebase (a tag or digest; an index is rebased per platform).
        public var image: String
        /// The new base: what the image's base reference names now.
        public var base: String
        /// The base the image was built on (`REF@sha256:…`); default: the image's
        /// `org.opencontainers.image.base.*` annotations.
        public var oldBase: String?
        /// Where the result goes; default: the image's own reference (in place).
        public var tags: [String]?
        /// Trust the history of an image Slipway has no build record of.
        public var force: Bool?
    }

    public static let kind = "rebase"
    public static let summary = "move an image onto its base's new content without a rebuild, when provably safe: rebase { image = …, base = … }"

    let image: ImageReference
    let base: ImageReference
    let oldBase: ImageReference?
    let targets: [ImageReference]
    let force: Bool

    public init(configuration: Configuration) throws {
        func reference(_ text: String, _ key: String) throws -> ImageReference {
            do {
                return try ImageReference(parsing: text)
            } catch {
                throw ConfigurationError(path: [.key(key)], message: "\(error)")
            }
        }
        image = try reference(configuration.image, "image")
        base = try reference(configuration.base, "base")
        oldBase = try configuration.oldBase.map { try reference($0, "old_base") }
        if let oldBase, oldBase.digest == nil {
            throw ConfigurationError(path: [.key("old_base")], message: "give the old base by digest (REF@sha256:…): its tag now names the new base")
        }
        targets = try (configuration.tags ?? [configuration.image]).enumerated().map { index, text in
            do {
                let target = try ImageReference(parsing: text)
                guard target.digest == nil else { throw ConfigurationError(path: [.key("tags"), .index(index + 1)], message: "'\(text)': a tag, not a digest") }
                return target
            } catch let error as ConfigurationError {
                throw error
            } catch {
                throw ConfigurationError(path: [.key("tags"), .index(index + 1)], message: "\(error)")
            }
        }
        force = configuration.force ?? false
    }

    public func run(in context: StepContext) async throws -> StepOutput {
        let client = try context.registryClient()
        let records = context.services[BuildRecordsService.self]
        let (image, force, logger, inputs) = (image, force, context.logger, context.inputs)
        let found = RecordCache()
        let report = try await RegistryRebase(client: client, store: try context.contentStore()).rebase(
            image, onto: base, oldBase: oldBase, targets: targets
        ) { digest, _ in
            // A build of this run (an input step), then what the host recorded of earlier runs.
            var record = Self.record(of: digest.description, in: inputs)
            if record == nil { record = try await records?.record(ofImage: digest.description) }
            if let record {
                await found.keep(record)
                return .origins(record.layers)
            }
            guard force else {
                throw RebaseRefusal(image: image.description, .unproven(
                    "Slipway has no build record of \(digest.short) (built elsewhere?), and history alone is not proof; give force = true to trust its history"))
            }
            logger.warning("\(image): no build record of \(digest.short); trusting its history (force = true)")
            return .history
        }
        guard let descriptor = report.descriptor, let first = report.images.first else {
            throw StepFailure(step: context.stepID, message: "the rebase of \(image) wrote nothing")
        }
        context.logger.info(
            "rebased \(image) onto \(base) (\(report.platforms.joined(separator: ", "))): \(descriptor.digest); \(report.requests) registry requests, blobs mounted \(report.mountedBlobs), present \(report.presentBlobs), uploaded \(report.uploadedBlobs) (\(ByteCountText.describe(report.uploadedBytes)), of which layers \(ByteCountText.describe(report.layerBytesUploaded)))")
        // As a build reports it, so the run record and the dependency graph know the image's new
        // base, and its next rebase finds its layers' origins.
        let buildReport = BuildReport(
            digest: first.digest.description, mediaType: descriptor.mediaType,
            runtimeBase: BaseImage(reference: base.description, digest: first.baseDigest.description),
            buildTimeBases: await found.record?.buildTimeBases ?? [], layers: first.origins)
        return StepOutput([
            "digest": .string(descriptor.digest.description),
            "media_type": .string(descriptor.mediaType),
            "platform": .string(first.platform),
            "platforms": .array(report.platforms.map(ConfigValue.string)),
            "tags": .array(targets.map { .string($0.description) }),
            "pushed": .array(targets.map { .string($0.description) }),
            "base": .object(["reference": .string(base.description), "digest": .string(first.baseDigest.description)]),
            "report": try ConfigValue(encoding: buildReport),
            "requests": .int(Int64(report.requests)),
            "uploaded_bytes": .int(report.uploadedBytes),
            "layer_bytes_uploaded": .int(report.layerBytesUploaded),
        ])
    }
}

extension RebaseStep {
    /// The record of `digest` in an input step's build report, if one built it.
    static func record(of digest: String, in inputs: [StepID: StepOutput]) -> BuildRecord? {
        for output in inputs.values {
            guard let value = output.fields["report"], let report = try? ConfigValueDecoder().decode(BuildReport.self, from: value), report.digest == digest
            else { continue }
            return BuildRecord(layers: report.layers, buildTimeBases: report.buildTimeBases)
        }
        return nil
    }
}

/// The build record the proof was read from, kept for the result's report.
private actor RecordCache {
    private(set) var record: BuildRecord?
    func keep(_ record: BuildRecord) { self.record = record }
}
