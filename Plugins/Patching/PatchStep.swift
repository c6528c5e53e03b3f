import Foundation
import Logging
public import SlipwayKernel
import SlipwayOCI
import SlipwayRuntime
import Synchronization

/// `patch { image = REF, sources = { … }, report = "trivy.json" }`: updates the OS packages of
/// an image without its source and appends exactly one layer. The package manager runs in a
/// container of a tooling image (the image itself by default) against the image's root mounted
/// at `/target`, so the image's own files change and the tooling's do not; what changed there
/// is the new layer. Debian and Ubuntu images (dpkg and apt) are patched; others are refused.
///
/// Everything upgradable, or with `report` only the packages a Trivy JSON report names, to at
/// least their fixed versions. The result goes to `tags`, or by `tag_policy` to `TAG-patched`
/// (the default) or the next `TAG-N`. Nothing to update: no layer, no push, and the step says so.
public struct PatchStep: PluginKind, StepRunner {
    public struct Configuration: Decodable, Sendable {
        public var image: String
        /// The image whose apt and dpkg do the work; default: the image itself.
        public var tooling: String?
        /// apt source lines used instead of the image's own (`deb URI SUITE COMPONENTS`).
        public var sources: [String]?
        /// A Trivy JSON report (a file path): only the packages it names are upgraded.
        public var report: String?
        public var tags: [String]?
        /// `patched` (TAG-patched, the default) or `increment` (TAG-1, TAG-2…).
        public var tagPolicy: String?
        /// `host` (the default, as RUN) or `none`.
        public var network: String?
    }

    public static let kind = "patch"
    public static let summary = "upgrade an image's OS packages in one added layer, without its source: patch { image = …, sources = { … } }"

    let image: ImageReference
    let tooling: ImageReference?
    let sources: [String]?
    let report: String?
    let tags: [ImageReference]?
    let policy: TagPolicy
    let network: NetworkMode

    public init(configuration: Configuration) throws {
        func reference(_ text: String, _ path: [ConfigPathComponent]) throws -> ImageReference {
            do {
                return try ImageReference(parsing: text)
            } catch {
                throw ConfigurationError(path: path, message: "\(error)")
            }
        }
        image = try reference(configuration.image, [.key("image")])
        guard image.tag != nil || image.digest != nil else { throw ConfigurationError(path: [.key("image")], message: "give a tag or a digest") }
        tooling = try configuration.tooling.map { try reference($0, [.key("tooling")]) }
        for (index, line) in (configuration.sources ?? []).enumerated() {
            let words = line.split(separator: " ")
            guard words.first == "deb", words.count >= 3, !line.contains("\n") else {
                throw ConfigurationError(path: [.key("sources"), .index(index + 1)], message: "'\(line)': expected 'deb URI SUITE [COMPONENT…]'")
            }
        }
        sources = configuration.sources
        report = configuration.report
        tags = try configuration.tags?.enumerated().map { try reference($1, [.key("tags"), .index($0 + 1)]) }
        guard let policy = TagPolicy(rawValue: configuration.tagPolicy ?? "patched") else {
            throw ConfigurationError(path: [.key("tag_policy")], message: "'\(configuration.tagPolicy ?? "")' is not a tag policy (patched or increment)")
        }
        if configuration.tags != nil, configuration.tagPolicy != nil {
            throw ConfigurationError(path: [.key("tag_policy")], message: "give tags or tag_policy, not both")
        }
        self.policy = policy
        switch configuration.network ?? "host" {
        case "host": network = .host
        case "none": network = .none
        case let other: throw ConfigurationError(path: [.key("network")], message: "'\(other)' is not host or none")
        }
    }

    enum TagPolicy: String {
        case patched, increment
    }

    public func run(in context: StepContext) async throws -> StepOutput {
        let store = try context.contentStore()
        let client = try context.registryClient()
        let step = context.stepID
        func fail(_ message: String) -> StepFailure { StepFailure(step: step, message: message) }

        // The report is read and checked before anything is fetched.
        let packages = try report.map { try Self.packages(inReport: $0, logger: context.logger, step: step) }
        let target = try await PatchedImage.pull(image, store: store, client: client, step: step)
        var tool = target
        if let tooling { tool = try await PatchedImage.pull(tooling, store: store, client: client, step: step) }

        let state = StateDirectory(of: store)
        let scratch = state.scratch.appendingPathComponent("patch-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try Data(AptPatchScript.text.utf8).write(to: scratch.appendingPathComponent("run.sh"))
        if let sources { try Data((sources.joined(separator: "\n") + "\n").utf8).write(to: scratch.appendingPathComponent("sources.list")) }
        if let packages {
            let lines = packages.keys.sorted().map { "\($0) \(packages[$0]!.joined(separator: " "))\n" }.joined()
            try Data(lines.utf8).write(to: scratch.appendingPathComponent("packages"))
        }

        let cache = LayerCache(beside: store)
        let (toolLayers, targetLayers) = (tool.stack, target.stack)
        let (toolLowers, targetLowers) = try await BlockingWork.run { (try cache.unpacked(stack: toolLayers), try cache.unpacked(stack: targetLayers)) }
        var request = ContainerRequest(
            lowers: toolLowers, command: ["/bin/sh", AptPatchScript.folder + "/run.sh"],
            environment: ["DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"], workingDirectory: "/", user: "0:0", network: network,
            hostname: context.stepID.rawValue)
        request.mounts = [ContainerMount(target: AptPatchScript.folder, source: .bind(scratch, readOnly: true))]
        request.target = ContainerRequest.Target(lowers: targetLowers, path: AptPatchScript.target)
        request.runID = context.runID
        let lines = LineCollector()
        let logger = context.logger
        let result: ContainerResult
        do {
            result = try await ContainerRuntime(bundles: state.run).run(request) { line in
                if line.text.hasPrefix("SLIPWAY-") { lines.add(line.text) } else { logger.info("\(line.text)") }
            }
        } catch {
            throw fail("cannot run the tooling image \(tool.name): \(error)")
        }
        defer { try? FileManager.default.removeItem(at: result.changes) }
        let report = lines.all
        if let error = report.first(where: { $0.hasPrefix("SLIPWAY-ERROR ") }) {
            throw fail("cannot patch \(image): \(error.dropFirst("SLIPWAY-ERROR ".count))")
        }
        guard result.status == 0 else { throw fail("the package manager exited with status \(result.status) while patching \(image)") }
        for line in report where line.hasPrefix("SLIPWAY-ABSENT ") {
            context.logger.info("\(line.dropFirst("SLIPWAY-ABSENT ".count)): named by the report, not installed in the image")
        }
        let upgrades = report.compactMap(PackageUpgrade.init(line:))
        guard !report.contains("SLIPWAY-NOTHING"), !upgrades.isEmpty else {
            context.logger.info("\(image): nothing to update; no new image, nothing pushed")
            return StepOutput(["patched": .bool(false), "digest": .string(target.digest.description), "upgraded": .array([])])
        }
        guard report.contains("SLIPWAY-DONE") else { throw fail("the package manager stopped before it finished patching \(image)") }
        for upgrade in upgrades { context.logger.info("upgraded \(upgrade.name) \(upgrade.from) → \(upgrade.to)") }

        let changes = result.changes
        // Files keep their times (up to now): a patch is a moment, not a rebuild of a source.
        let epoch = Int64(Date().timeIntervalSince1970)
        let written = try await BlockingWork.run {
            try LayerWriter(options: LayerWriter.Options(compression: .gzip, epoch: epoch, keepOwnership: true))
                .write(try DirectoryScanner.entries(of: changes), into: store)
        }
        let summary = "slipway patch: apt-get upgrade " + upgrades.map { "\($0.name)=\($0.to)" }.joined(separator: " ")
        let patched = try target.appending(layer: written, history: summary, store: store)
        var destinations = tags ?? []
        if tags == nil { destinations = [try await policy.tag(for: image, client: client)] }
        for destination in destinations {
            let pushed = try await client.push(patched, from: store, to: destination, mountFrom: [image.repository])
            context.logger.info("pushed \(destination): uploaded \(pushed.uploaded), mounted \(pushed.mounted), already there \(pushed.skipped)")
        }
        return StepOutput([
            "patched": .bool(true),
            "digest": .string(patched.digest.description),
            "media_type": .string(patched.mediaType),
            "tags": .array(destinations.map { .string($0.description) }),
            "pushed": .array(destinations.map { .string($0.description) }),
            "upgraded": .array(upgrades.map { .object(["name": .string($0.name), "from": .string($0.from), "to": .string($0.to)]) }),
            "layer": .string(written.descriptor.digest.description),
        ])
    }

    /// The packages a Trivy JSON report names with a fix, and their fixed versions.
    static func packages(inReport path: String, logger: Logger, step: StepID) throws -> [String: [String]] {
        guard let data = FileManager.default.contents(atPath: path) else { throw StepFailure(step: step, message: "report: cannot read \(path)") }
        let report: VulnerabilityReport
        do {
            report = try JSONDecoder().decode(VulnerabilityReport.self, from: data)
        } catch {
            throw StepFailure(step: step, message: "report: \(path) is not a Trivy JSON report: \(error)")
        }
        let fixes = report.fixes
        if report.unfixable > 0 { logger.info("report: \(report.unfixable) vulnerabilit(ies) in \(path) have no fixed version and cannot be patched") }
        for (type, count) in report.notOSPackages.sorted(by: { $0.key < $1.key }) {
            logger.info("report: \(count) vulnerabilit(ies) of \(type) packages in \(path) are not OS packages; patch does not upgrade them")
        }
        guard !fixes.isEmpty else { throw StepFailure(step: step, message: "report: \(path) names no vulnerability with a fixed version") }
        // Names and versions reach the tooling's shell as words: only their own characters.
        func plain(_ text: String) -> Bool { !text.isEmpty && text.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || "+-.:~_".contains($0) } }
        for (name, versions) in fixes {
            guard plain(name) else { throw StepFailure(step: step, message: "report: '\(name)' in \(path) is not a package name") }
            for version in versions where !plain(version) {
                throw StepFailure(step: step, message: "report: '\(version)' (\(name)) in \(path) is not a package version")
            }
        }
        return fixes
    }
}

/// One package the tooling upgraded: `SLIPWAY-UPGRADE name from to`.
struct PackageUpgrade: Sendable, Hashable {
    var name: String
    var from: String
    var to: String

    init?(line: String) {
        let words = line.split(separator: " ").map(String.init)
        guard words.count == 4, words[0] == "SLIPWAY-UPGRADE" else { return nil }
        (name, from, to) = (words[1], words[2], words[3])
    }
}

/// Output lines of the tooling container, collected from the runtime's reader.
private final class LineCollector: Sendable {
    private let lines = Mutex<[String]>([])
    func add(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
