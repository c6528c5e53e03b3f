import Foundation
import SlipwayDockerfile
import SlipwayKernel
import SlipwayOCI

/// The image a stage is building, instruction by instruction.
struct StageState: Sendable {
    var config: ImageConfig
    var layers: [Descriptor]
    var origins: [LayerOrigin]
    /// Where the stage started: nil for scratch and for stages built on another stage's state.
    var base: BaseImage?
    /// ARG values in scope (build arguments override defaults).
    var args: [String: String] = [:]
    /// ARGs declared before the first FROM; `ARG NAME` in a stage brings one into scope.
    var globalArgs: [String: String] = [:]
    var shell: [String] = ["/bin/sh", "-c"]
    /// Whether CMD was set in this stage (ENTRYPOINT clears an inherited CMD otherwise).
    var cmdSetHere = false
    /// Every path the stage's layers hold (and whether it is a directory), when all of them
    /// were written by this build (a scratch-based stage); nil on an image base.
    /// Each entry keeps its metadata (a directory's mode and owner), not its content.
    var knownPaths: [String: LayerEntry]? = [:]
    /// Images COPY --from read files from: build-time bases of the image.
    var copiedFrom: [BaseImage] = []

    /// Each layer with its uncompressed digest, bottom first: what the layer cache unpacks.
    var unpackableLayers: [(layer: Descriptor, diffID: Digest)] {
        Array(zip(layers, config.rootfs.diffIDs))
    }

    var container: ImageConfig.ContainerConfig {
        get { config.config ?? ImageConfig.ContainerConfig() }
        set { config.config = newValue }
    }

    /// ENV of the image, as a dictionary.
    var environment: [String: String] {
        (container.env ?? []).reduce(into: [:]) { result, entry in
            guard let equals = entry.firstIndex(of: "=") else { return }
            result[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
    }

    /// Variables visible to word expansion: ARGs, overridden by ENV (as in BuildKit).
    func words(escape: Character) -> ShellWords {
        ShellWords(escape: escape, environment: args.merging(environment) { _, env in env })
    }

    mutating func setEnvironment(_ key: String, _ value: String) {
        var entries = container.env ?? []
        entries.removeAll { $0.hasPrefix(key + "=") }
        entries.append("\(key)=\(value)")
        container.env = entries
    }

    /// Keeps ``knownPaths`` true after a layer (RUN or COPY): what it wrote is added, what it
    /// deleted removed.
    mutating func noteChanges(_ entries: [LayerEntry]) {
        guard var paths = knownPaths else { return }
        func removeTree(_ path: String) {
            paths = paths.filter { $0.key != path && !$0.key.hasPrefix(path + "/") }
        }
        for entry in entries {
            let (parent, name) = LayerEntry.split(entry.path)
            if name == LayerEntry.opaqueMarker {
                if !parent.isEmpty { paths = paths.filter { !$0.key.hasPrefix(parent + "/") } } else { paths = [:] }
            } else if name.hasPrefix(LayerEntry.whiteoutPrefix) {
                removeTree((parent.isEmpty ? "" : parent + "/") + name.dropFirst(LayerEntry.whiteoutPrefix.count))
            } else {
                var known = entry
                if known.content != .directory { known.content = .bytes(Data()) }  // metadata only
                paths[entry.path] = known
            }
        }
        knownPaths = paths
    }

    /// Puts a layer on top of the stage, recording what made it.
    mutating func append(_ record: InstructionCache.Record, kind: LayerOrigin.Kind) {
        layers.append(record.layer)
        config.rootfs.diffIDs.append(record.diffID)
        origins.append(LayerOrigin(kind: kind, digest: record.layer.digest.description))
    }

    mutating func addHistory(_ instruction: Instruction, emptyLayer: Bool, created: String) {
        var history = config.history ?? []
        history.append(ImageConfig.History(created: created, createdBy: instruction.original, comment: "slipway", emptyLayer: emptyLayer ? true : nil))
        config.history = history
    }
}
