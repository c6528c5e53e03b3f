import ArgumentParser
import Foundation
import SlipwayOCI

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Move and inspect images: registries, Slipway's store, OCI layout directories.",
        discussion: """
            Slipway's store is an OCI image layout under the state directory (oci/). Images in it \
            are named by their full reference (127.0.0.1:5000/app:1). Credentials come from \
            --username/--password-stdin, else $REGISTRY_AUTH_FILE or $XDG_RUNTIME_DIR/containers/auth.json, \
            else ~/.docker/config.json (with credential helpers).
            """,
        subcommands: [
            ImagePull.self, ImagePush.self, ImageCopy.self, ImageList.self, ImageInspect.self, ImageTag.self, ImageRemove.self,
            ImageGC.self,
        ])
}

/// Runs a command body, mapping errors to the documented exit statuses.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch is CancellationError {
        FileHandle.standardError.write(Data("slipway: cancelled\n".utf8))
        throw ExitCode.failure
    } catch {
        throw ErrorReporting.exit(for: error, verbose: false)
    }
}

struct ImagePull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Pull an image from a registry into the store.")

    @Argument(help: "Image reference, e.g. 127.0.0.1:5000/app:1.") var reference: String
    @Option(help: "Platform to pick from a multi-platform image (os/arch[/variant]).") var platform: String?
    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        try await reportingErrors {
            let reference = try ImageReference(parsing: reference)
            let platform = try platform.map(Platform.init(parsing:)) ?? .host
            let progress = TransferProgressView.forTerminal("pulling \(reference)")
            let report = try await registry.client(for: [reference.registry], progress: progress)
                .pull(reference, platform: platform, into: try registry.store())
            progress?.finish()
            print(report.descriptor.digest)
        }
    }
}

struct ImagePush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Push an image from the store to a registry.",
        discussion: "Blobs the registry has are skipped; blobs it has in another repository are mounted, not uploaded.")

    @Argument(help: "Destination reference.") var reference: String
    @Option(help: "The store image to push, if not named like the destination.") var from: String?
    @Option(help: "Manifest format to write: oci (default) or docker (schema 2).") var format: ManifestFormat = .oci
    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        try await reportingErrors {
            let destination = try ImageReference(parsing: reference)
            let store = try registry.store()
            let name = try from.map { try ImageReference(parsing: $0).description } ?? destination.description
            guard let stored = try store.resolve(name) else { throw InputError("no image named \(name) in the store (see slipway image ls)") }
            let descriptor = try format.apply(to: stored, in: store)
            let mountFrom = try store.tags().compactMap { try? ImageReference(parsing: $0.name) }
                .filter { $0.registry == destination.registry && $0.repository != destination.repository }.map(\.repository)
            let progress = TransferProgressView.forTerminal("pushing \(destination)")
            let report = try await registry.client(for: [destination.registry], progress: progress)
                .push(descriptor, from: store, to: destination, mountFrom: Array(Set(mountFrom)).sorted().prefix(3).map { $0 })
            progress?.finish()
            FileHandle.standardError.write(Data("uploaded \(report.uploaded), mounted \(report.mounted), already there \(report.skipped)\n".utf8))
            print(report.descriptor.digest)
        }
    }
}

struct ImageCopy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy", abstract: "Copy an image between registries, the store and OCI layout directories.",
        discussion: "Locations: docker://REF (or a plain reference), oci:DIR:NAME, store:NAME.")

    @Argument(help: "Source location.") var source: String
    @Argument(help: "Destination location.") var destination: String
    @Option(help: "Platform to pick from a multi-platform source (os/arch[/variant]).") var platform: String?
    @Option(help: "Manifest format to write: oci (default) or docker (schema 2).") var format: ManifestFormat = .oci
    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        try await reportingErrors {
            let from = try ImageLocation(parsing: source)
            let to = try ImageLocation(parsing: destination)
            let store = try registry.store()
            let platform = try platform.map(Platform.init(parsing:)) ?? .host
            let progress = TransferProgressView.forTerminal("copying")
            let client = try registry.client(for: [from.registry, to.registry].compactMap { $0 }, progress: progress)

            // Bring the source into a local store; the Slipway store doubles as the cache.
            let (sourceStore, sourceDescriptor): (ContentStore, Descriptor)
            switch from {
            case .registry(let reference):
                let report = try await client.pull(reference, platform: platform, into: store)
                (sourceStore, sourceDescriptor) = (store, report.descriptor)
            case .layout(let directory, let name):
                let layout = try ContentStore(root: directory)
                guard let found = try layout.resolve(name) else { throw InputError("no image named \(name) in \(directory.path)") }
                (sourceStore, sourceDescriptor) = (layout, found)
            case .store(let name):
                guard let found = try store.resolve(name) else { throw InputError("no image named \(name) in the store") }
                (sourceStore, sourceDescriptor) = (store, found)
            }

            let descriptor = try format.apply(to: sourceDescriptor, in: sourceStore)
            switch to {
            case .registry(let reference):
                var mountFrom: [String] = []
                if case .registry(let origin) = from, origin.registry == reference.registry { mountFrom = [origin.repository] }
                _ = try await client.push(descriptor, from: sourceStore, to: reference, mountFrom: mountFrom)
            case .layout(let directory, let name):
                let layout = try ContentStore(root: directory)
                try layout.importTree(descriptor, from: sourceStore)
                try layout.tag(name, descriptor)
            case .store(let name):
                try store.importTree(descriptor, from: sourceStore)
                try store.tag(name, descriptor)
            }
            progress?.finish()
            print(descriptor.digest)
        }
    }
}

/// Which manifest format to write. Single-platform images only are converted; the
/// converted manifest (a new digest) is written to the same store first.
enum ManifestFormat: String, ExpressibleByArgument, CaseIterable {
    case oci, docker

    func apply(to descriptor: Descriptor, in store: ContentStore) throws -> Descriptor {
        let wantDocker = self == .docker
        guard MediaType.isManifest(descriptor.mediaType) else {
            if wantDocker { throw InputError("--format docker converts single-platform images only; this is an index") }
            return descriptor
        }
        guard (descriptor.mediaType == MediaType.dockerManifest) != wantDocker else { return descriptor }
        let manifest = try store.manifest(descriptor.digest, what: "manifest")
        let converted = manifest.converted(toDocker: wantDocker)
        return try store.write(json: converted, mediaType: converted.mediaType ?? MediaType.ociManifest)
    }
}
