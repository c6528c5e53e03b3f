public import Foundation
public import SlipwayOCI

/// Small single-layer images for store and registry tests. The layer is an uncompressed tar
/// made by GNU tar with fixed owners and times, so the same files give the same digests.
public enum OCITestImages {
    public struct Written: Sendable {
        public var manifest: Descriptor
        public var config: Descriptor
        public var layers: [Descriptor]
    }

    /// Builds an image of `files` (path → content) in `store`, tagged `tag` when given.
    public static func write(
        into store: ContentStore, files: [String: String], tag: String? = nil, platform: Platform = .host
    ) throws -> Written {
        let tar = try tarball(files)
        let layerDigest = try store.write(tar)
        let layer = Descriptor(mediaType: MediaType.ociLayer, digest: layerDigest, size: Int64(tar.count))
        var container = ImageConfig.ContainerConfig()
        container.cmd = ["/bin/sh"]
        let config = try store.write(
            json: ImageConfig(platform: platform, config: container, diffIDs: [layerDigest]), mediaType: MediaType.ociConfig)
        let manifest = try store.write(json: ImageManifest(config: config, layers: [layer]), mediaType: MediaType.ociManifest)
        if let tag { try store.tag(tag, manifest) }
        return Written(manifest: manifest, config: config, layers: [layer])
    }

    /// A multi-platform index of two one-file images (`arch` holds the architecture):
    /// linux/amd64 and linux/arm64/v8, each entry carrying its platform.
    public static func multiPlatformIndex(into store: ContentStore) throws -> (index: Descriptor, amd64: Written, arm64: Written) {
        let amd = try write(into: store, files: ["arch": "amd64"], platform: Platform(architecture: "amd64", os: "linux"))
        let arm = try write(into: store, files: ["arch": "arm64"], platform: Platform(architecture: "arm64", os: "linux", variant: "v8"))
        var amdEntry = amd.manifest
        amdEntry.platform = Platform(architecture: "amd64", os: "linux")
        var armEntry = arm.manifest
        armEntry.platform = Platform(architecture: "arm64", os: "linux", variant: "v8")
        let index = try store.write(json: ImageIndex(manifests: [amdEntry, armEntry]), mediaType: MediaType.ociIndex)
        return (index, amd, arm)
    }

    /// A tar of `files`, deterministic: sorted, owner 0, mtime 0.
    public static func tarball(_ files: [String: String]) throws -> Data {
        let folder = Scratch.location("tar")
        defer { try? FileManager.default.removeItem(at: folder) }
        for (path, content) in files {
            let file = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: file)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = [
            // Modes are normalised too: libarchive's disk writer briefly sets the process umask
            // to 0 (to read it), so a folder made here by another test at that moment is 0777.
            "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "--mode=go-w", "--format=posix",
            "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime", "-cf", "-", "-C", folder.path, ".",
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Shell.Failure(description: "tar exited \(process.terminationStatus)") }
        return data
    }
}
