import ArgumentParser
import Foundation
import SlipwayOCI

struct ImageList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the images in the store.")

    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var registry: RegistryOptions

    struct Row: Encodable {
        var name: String
        var digest: String
        var mediaType: String
        var size: Int64
    }

    func run() async throws {
        try await reportingErrors {
            let store = try registry.store()
            let rows = try store.tags().map { entry in
                Row(name: entry.name, digest: entry.descriptor.digest.description, mediaType: entry.descriptor.mediaType,
                    size: try ImageSummary.totalSize(entry.descriptor, in: store))
            }
            if json {
                print(try JSONOutput.render(rows))
                return
            }
            let width = max(4, rows.map(\.name.count).max() ?? 0)
            print("NAME".padding(toLength: width, withPad: " ", startingAt: 0) + "  DIGEST        SIZE")
            for row in rows {
                let digest = try Digest(parsing: row.digest).short
                print(row.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(digest)  \(TransferProgressView.bytes(row.size))")
            }
        }
    }
}

/// Facts about an image in a store, for `ls` and `inspect`.
enum ImageSummary {
    static func manifest(_ descriptor: Descriptor, in store: ContentStore) throws -> ImageManifest? {
        guard MediaType.isManifest(descriptor.mediaType) else { return nil }
        return try store.manifest(descriptor.digest)
    }

    /// Manifest + config + layers (for an index: the index itself).
    static func totalSize(_ descriptor: Descriptor, in store: ContentStore) throws -> Int64 {
        guard let manifest = try manifest(descriptor, in: store) else { return descriptor.size }
        return descriptor.size + manifest.config.size + manifest.layers.reduce(0) { $0 + $1.size }
    }
}

struct ImageInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show an image's manifest and configuration (from the store, else the registry).")

    @Argument(help: "Image name or reference.") var reference: String
    @Flag(help: "Print the manifest and config as JSON.") var json = false
    @OptionGroup var registry: RegistryOptions

    struct Output: Encodable {
        var name: String
        var digest: String
        var mediaType: String
        var manifest: ImageManifest?
        var index: ImageIndex?
        var config: ImageConfig?
    }

    func run() async throws {
        try await reportingErrors {
            let store = try registry.store()
            let parsed = try? ImageReference(parsing: reference)
            let name = parsed?.description ?? reference
            var descriptor = try store.resolve(name)
            var contentStore = store
            if descriptor == nil, let parsed {
                // Not local: read it from the registry into a scratch store (manifest and config only).
                let scratch = try ContentStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("slipway-inspect-\(UUID().uuidString)"))
                let client = try registry.client(for: [parsed.registry])
                let fetched = try await client.manifest(parsed)
                try scratch.write(fetched.data, expected: fetched.digest)
                if MediaType.isManifest(fetched.mediaType) {
                    let manifest = try CanonicalJSON.decode(ImageManifest.self, from: fetched.data, what: "manifest \(parsed)")
                    try await client.fetchBlob(manifest.config, from: parsed, into: scratch)
                }
                descriptor = fetched.descriptor
                contentStore = scratch
            }
            guard let descriptor else { throw InputError("no image named \(name) in the store") }
            let manifest = try ImageSummary.manifest(descriptor, in: contentStore)
            let index = MediaType.isIndex(descriptor.mediaType)
                ? try CanonicalJSON.decode(ImageIndex.self, from: contentStore.data(descriptor.digest), what: "index") : nil
            let config = try manifest.map { try contentStore.config(of: $0, what: "config") }
            let output = Output(
                name: name, digest: descriptor.digest.description, mediaType: descriptor.mediaType, manifest: manifest, index: index, config: config)
            if json {
                print(try JSONOutput.render(output))
            } else {
                printText(output)
            }
        }
    }

    private func printText(_ output: Output) {
        print("name:      \(output.name)")
        print("digest:    \(output.digest)")
        print("type:      \(output.mediaType)")
        if let index = output.index {
            for entry in index.manifests { print("platform:  \(entry.platform?.description ?? "?")  \(entry.digest)") }
        }
        if let config = output.config {
            print("platform:  \(config.platform)")
            if let created = config.created { print("created:   \(created)") }
            let container = config.config
            if let cmd = container?.cmd { print("cmd:       \(cmd)") }
            if let entrypoint = container?.entrypoint { print("entrypoint: \(entrypoint)") }
            if let env = container?.env { for variable in env { print("env:       \(variable)") } }
            if let workdir = container?.workingDir { print("workdir:   \(workdir)") }
            if let user = container?.user, !user.isEmpty { print("user:      \(user)") }
        }
        if let annotations = output.manifest?.annotations {
            for key in annotations.keys.sorted() { print("annotation: \(key)=\(annotations[key]!)") }
        }
        for layer in output.manifest?.layers ?? [] {
            print("layer:     \(layer.digest)  \(TransferProgressView.bytes(layer.size))  \(layer.mediaType)")
        }
    }
}

struct ImageTag: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Give a store image another name.")

    @Argument(help: "Existing name.") var source: String
    @Argument(help: "New name.") var target: String
    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        try await reportingErrors {
            let store = try registry.store()
            let from = ImageLocation.storeName(source)
            let to = ImageLocation.storeName(target)
            guard let descriptor = try store.resolve(from) else { throw InputError("no image named \(from) in the store") }
            try store.tag(to, descriptor)
            print(descriptor.digest)
        }
    }
}

struct ImageRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Remove names from the store (blobs go with `slipway image gc`).")

    @Argument(help: "Names to remove.") var names: [String]
    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        try await reportingErrors {
            let store = try registry.store()
            for name in names {
                let normalized = ImageLocation.storeName(name)
                guard try store.untag(normalized) else { throw InputError("no image named \(normalized) in the store") }
                print(normalized)
            }
        }
    }
}

struct ImageGC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Delete blobs no store name reaches.",
        discussion: "Blobs younger than the grace period are kept: another process may be about to name them.")

    @Option(help: "Keep unreferenced blobs younger than this many seconds.") var grace: Int = 600
    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        try await reportingErrors {
            let report = try registry.store().collectGarbage(gracePeriod: TimeInterval(grace))
            print("removed \(report.removedBlobs) blob(s), \(TransferProgressView.bytes(report.removedBytes)); kept \(report.keptBlobs)")
        }
    }
}
