import Foundation
import SlipwayOCI
import SlipwayTesting
import Testing

/// Against the real CNCF registry, with skopeo as the independent reader and writer.
@Suite(.serialized)
struct RegistryRoundTripTests {
    func store() throws -> ContentStore { try Scratch.store("rt") }

    @Test func pushThenSkopeoReadsIt() async throws {
        try Prerequisites.require(["skopeo"])
        let registry = try await RegistryHarness.start()
        let store = try store()
        let image = try OCITestImages.write(into: store, files: ["app/hello.txt": "hello"], tag: "local")
        let reference = try ImageReference(parsing: "\(registry.address)/team/app:1")
        let report = try await RegistryClient().push(image.manifest, from: store, to: reference)
        #expect(report.uploaded == 2)

        let raw = try await Shell.run("skopeo", ["inspect", "--tls-verify=false", "--raw", "docker://\(reference)"])
        #expect(Digest.sha256(of: Data(raw.utf8)) == image.manifest.digest)
        let copy = Scratch.location("skopeo")
        try await Shell.run("skopeo", ["copy", "--src-tls-verify=false", "docker://\(reference)", "oci:\(copy.path):copied"])
        let copied = try ContentStore(root: copy)
        let copiedManifest = try JSONDecoder().decode(ImageManifest.self, from: copied.data(try #require(try copied.resolve("copied")).digest))
        #expect(copiedManifest.config.digest == image.config.digest)  // skopeo recompresses layers into an OCI layout

        // Pushing again sends nothing: every blob is already there.
        let again = try await RegistryClient().push(image.manifest, from: store, to: reference)
        #expect(again.uploaded == 0)
        #expect(again.skipped == 2)
    }

    @Test func skopeoPushesThenWePullAndVerify() async throws {
        try Prerequisites.require(["skopeo"])
        let registry = try await RegistryHarness.start()
        let source = try store()
        let image = try OCITestImages.write(into: source, files: ["etc/os-release": "ID=test\n"], tag: "v1")
        let reference = try ImageReference(parsing: "\(registry.address)/from/skopeo:v1")
        try await Shell.run("skopeo", ["copy", "--dest-tls-verify=false", "oci:\(source.root.path):v1", "docker://\(reference)"])

        let destination = try store()
        let report = try await RegistryClient().pull(reference, into: destination)
        let pulled = try #require(try destination.resolve(reference.description))
        #expect(pulled.digest == report.descriptor.digest)
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: destination.data(pulled.digest))
        #expect(manifest.config.digest == image.config.digest)
        #expect(report.downloaded == 2)
        for layer in manifest.layers { _ = try destination.data(layer.digest) }
        // Pulling again downloads nothing.
        #expect(try await RegistryClient().pull(reference, into: destination).downloaded == 0)
    }

    @Test func multiPlatformIndexSelectsThePlatform() async throws {
        let registry = try await RegistryHarness.start()
        let store = try store()
        let (index, _, arm) = try OCITestImages.multiPlatformIndex(into: store)
        let reference = try ImageReference(parsing: "\(registry.address)/multi/app:latest")
        _ = try await RegistryClient().push(index, from: store, to: reference)

        let destination = try self.store()
        let report = try await RegistryClient().pull(reference, platform: try Platform(parsing: "linux/arm64"), into: destination)
        #expect(report.descriptor.digest == arm.manifest.digest)
        await #expect {
            try await RegistryClient().pull(reference, platform: try Platform(parsing: "linux/s390x"), into: destination)
        } throws: { error in
            String(describing: error).contains("platform linux/s390x") && String(describing: error).contains("linux/arm64/v8")
        }
    }

    @Test func crossRepositoryMountUploadsNothing() async throws {
        let registry = try await RegistryHarness.start()
        let store = try store()
        let image = try OCITestImages.write(into: store, files: ["big": String(repeating: "x", count: 100_000)])
        let client = RegistryClient()
        _ = try await client.push(image.manifest, from: store, to: try ImageReference(parsing: "\(registry.address)/first/app:1"))
        let report = try await client.push(
            image.manifest, from: store, to: try ImageReference(parsing: "\(registry.address)/second/app:1"), mountFrom: ["first/app"])
        #expect(report.mounted == 2)
        #expect(report.uploaded == 0)
        // The registry's own log: no blob upload was started for the second repository.
        #expect(registry.requestCount(method: "PUT", uriContains: "/v2/second/app/blobs/uploads/") == 0)
        #expect(registry.requestCount(method: "PUT", uriContains: "/v2/first/app/blobs/uploads/") == 2)
    }

    @Test func pushingWhatTheTagAlreadyNamesSendsNothing() async throws {
        let registry = try await RegistryHarness.start()
        let store = try store()
        let image = try OCITestImages.write(into: store, files: ["a": "1", "b": "2"])
        let reference = try ImageReference(parsing: "\(registry.address)/same/app:1")
        _ = try await RegistryClient().push(image.manifest, from: store, to: reference)
        let blobHeads = registry.requestCount(method: "HEAD", uriContains: "/v2/same/app/blobs/")
        let manifestPuts = registry.requestCount(method: "PUT", uriContains: "/v2/same/app/manifests/")
        let again = try await RegistryClient().push(image.manifest, from: store, to: reference)
        #expect(again.skipped == 2)
        #expect(again.uploaded == 0)
        // One manifest HEAD; no blob HEAD and no manifest PUT.
        #expect(registry.requestCount(method: "HEAD", uriContains: "/v2/same/app/blobs/") == blobHeads)
        #expect(registry.requestCount(method: "PUT", uriContains: "/v2/same/app/manifests/") == manifestPuts)
    }

    @Test func tagsAreListedAcrossPagesAndManifestsDeleted() async throws {
        let registry = try await RegistryHarness.start()
        let store = try store()
        let image = try OCITestImages.write(into: store, files: ["a": "1"])
        let client = RegistryClient()
        for tag in ["a", "b", "c", "d", "e"] {
            _ = try await client.push(image.manifest, from: store, to: try ImageReference(parsing: "\(registry.address)/paged:\(tag)"))
        }
        let tags = try await client.tags(try ImageReference(parsing: "\(registry.address)/paged"), pageSize: 2)
        #expect(tags.sorted() == ["a", "b", "c", "d", "e"])
        let doomed = try ImageReference(parsing: "\(registry.address)/paged:a")
        try await client.deleteManifest(doomed)
        #expect(try await client.headManifest(doomed) == nil)
    }

    @Test func corruptedBlobIsRejectedAndNotStored() async throws {
        let registry = try await RegistryHarness.start()
        let store = try store()
        let image = try OCITestImages.write(into: store, files: ["payload": String(repeating: "p", count: 4096)])
        let reference = try ImageReference(parsing: "\(registry.address)/damaged:1")
        _ = try await RegistryClient().push(image.manifest, from: store, to: reference)
        // Flip the stored layer's bytes on the registry's disk, keeping its size.
        let layer = image.layers[0]
        let file = registry.blobDataFile(hex: layer.digest.hex)
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 10] ^= 0xFF
        try bytes.write(to: file)

        let destination = try self.store()
        await #expect {
            try await RegistryClient().pull(reference, into: destination)
        } throws: { error in
            String(describing: error).contains("does not match its digest")
        }
        #expect(!destination.contains(layer.digest))
        #expect(try destination.resolve(reference.description) == nil)
    }

    @Test func missingImageNamesTheReferenceAndRegistry() async throws {
        let registry = try await RegistryHarness.start()
        await #expect {
            try await RegistryClient().pull(try ImageReference(parsing: "\(registry.address)/nothing/here:1"), into: try store())
        } throws: { error in
            let text = String(describing: error)
            return text.contains("\(registry.address)/nothing/here:1") && text.contains("HTTP 404")
        }
    }
}
