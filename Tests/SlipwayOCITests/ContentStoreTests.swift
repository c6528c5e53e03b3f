import Foundation
import SlipwayOCI
import SlipwayTesting
import Testing

struct ContentStoreTests {
    func temporaryStore() throws -> ContentStore { try Scratch.store() }

    @Test func createsAValidLayout() throws {
        let store = try temporaryStore()
        let layout = try String(contentsOf: store.root.appendingPathComponent("oci-layout"), encoding: .utf8)
        #expect(layout == #"{"imageLayoutVersion":"1.0.0"}"#)
        #expect(try store.tags().isEmpty)
        // Opening again keeps what is there.
        let data = Data("hello".utf8)
        let digest = try store.write(data)
        #expect(try ContentStore(root: store.root).data(digest) == data)
    }

    @Test func writesAreVerifiedAndMismatchesLeaveNothing() throws {
        let store = try temporaryStore()
        let wrong = Digest.sha256(of: Data("something else".utf8))
        #expect {
            try store.write(Data("hello".utf8), expected: wrong, source: "registry.example/app")
        } throws: { error in
            String(describing: error).contains("content from registry.example/app does not match its digest")
        }
        #expect(!store.contains(wrong))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent("blobs/.tmp").path)
        #expect(leftovers.isEmpty)
    }

    @Test func sizeLimitStopsAnOversizedBlob() throws {
        let store = try temporaryStore()
        let writer = try store.writer(expected: nil, size: 4, source: "test")
        #expect(throws: OCIError.self) { try writer.write(Data("too long".utf8)) }
    }

    @Test func corruptedBlobsAreDetectedOnRead() throws {
        let store = try temporaryStore()
        let digest = try store.write(Data("original".utf8))
        try Data("tampered".utf8).write(to: store.blobURL(digest))
        #expect(throws: OCIError.self) { try store.data(digest) }
    }

    @Test func concurrentWritersOfTheSameBlobAgree() async throws {
        let store = try temporaryStore()
        let data = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0) })
        let digests = try await withThrowingTaskGroup(of: Digest.self) { group in
            for _ in 0..<8 { group.addTask { try store.write(data) } }
            return try await group.reduce(into: [Digest]()) { $0.append($1) }
        }
        #expect(Set(digests).count == 1)
        #expect(try store.data(digests[0]) == data)
    }

    @Test func tagsLiveInIndexJSON() throws {
        let store = try temporaryStore()
        let one = try store.write(json: ["a": 1], mediaType: "application/json")
        let two = try store.write(json: ["a": 2], mediaType: "application/json")
        try store.tag("app:1", one)
        try store.tag("app:1", two)
        try store.tag("app:2", one)
        #expect(try store.tags().map(\.name) == ["app:1", "app:2"])
        #expect(try store.resolve("app:1")?.digest == two.digest)
        #expect(try store.untag("app:2"))
        #expect(try store.resolve("app:2") == nil)
        #expect(throws: OCIError.self) { try store.tag("bad name", one) }
    }

    @Test func garbageCollectionKeepsWhatTagsReach() throws {
        let store = try temporaryStore()
        let image = try OCITestImages.write(into: store, files: ["hello.txt": "hi"], tag: "kept")
        let stray = try store.write(Data("unreferenced".utf8))
        let report = try store.collectGarbage(gracePeriod: 0)
        #expect(report.removedBlobs == 1)
        #expect(!store.contains(stray))
        #expect(store.contains(image.manifest.digest))
        #expect(try store.reachableBlobs().count == 3)
        // Young blobs survive a collection with a grace period.
        let young = try store.write(Data("just written".utf8))
        #expect(try store.collectGarbage().removedBlobs == 0)
        #expect(store.contains(young))
    }
}

/// Other tools read what we write, and we read what they write.
@Suite(.serialized)
struct ContentStoreInteropTests {
    @Test func skopeoAndUmociReadOurLayout() async throws {
        try Prerequisites.require(["skopeo", "umoci"])
        let root = Scratch.location("interop")
        let store = try ContentStore(root: root)
        let image = try OCITestImages.write(into: store, files: ["etc/motd": "welcome\n", "bin/tool": "#!/bin/sh\n"], tag: "v1")

        let inspect = try await Shell.run("skopeo", ["inspect", "--raw", "oci:\(root.path):v1"])
        #expect(Digest.sha256(of: Data(inspect.utf8)) == image.manifest.digest)

        let bundle = root.deletingLastPathComponent().appendingPathComponent("bundle-\(UUID().uuidString)")
        _ = try await Shell.run("umoci", ["unpack", "--image", "\(root.path):v1", bundle.path])
        let motd = try String(contentsOf: bundle.appendingPathComponent("rootfs/etc/motd"), encoding: .utf8)
        #expect(motd == "welcome\n")
    }

    @Test func weReadALayoutSkopeoWrote() async throws {
        try Prerequisites.require(["skopeo"])
        let source = Scratch.location("src")
        let destination = source.deletingLastPathComponent().appendingPathComponent("slipway-dst-\(UUID().uuidString)")
        let store = try ContentStore(root: source)
        let image = try OCITestImages.write(into: store, files: ["a": "1"], tag: "v1")
        _ = try await Shell.run("skopeo", ["copy", "oci:\(source.path):v1", "oci:\(destination.path):copied"])
        let copy = try ContentStore(root: destination)
        let entry = try #require(try copy.resolve("copied"))
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: copy.data(entry.digest))
        // skopeo compresses uncompressed layers on copy; the config (with its diff IDs) is kept.
        #expect(manifest.config.digest == image.config.digest)
        #expect(manifest.layers.allSatisfy { copy.contains($0.digest) })
        #expect(try copy.reachableBlobs().count == 3)
    }
}
