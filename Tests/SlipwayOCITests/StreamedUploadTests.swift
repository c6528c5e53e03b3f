import Foundation
import SlipwayKernel
@testable import SlipwayOCI
import SlipwayTesting
import Testing

/// A layer uploaded while it is written (against the real CNCF registry): the registry ends up
/// with exactly the blob the store has, and when the registry refuses the stream the push
/// still sends the blob the usual way.
@Suite(.serialized)
struct StreamedUploadTests {
    /// Writes the test tree's layer into `store`, streaming it through `upload`.
    static func writeLayer(into store: ContentStore, streamingTo upload: StreamedUpload) async throws -> LayerWriter.Written {
        let entries = try DirectoryScanner.entries(of: ChunkedCompressionTests.tree(at: Scratch.location("streamed-tree")))
        return try await BlockingWork.run {
            try LayerWriter(options: .init(compression: .gzip)).write(entries, into: store, tee: { upload.send($0) })
        }
    }

    @Test func aLayerStreamedWhileWrittenIsTheBlobThePushFinds() async throws {
        let registry = try await RegistryHarness.start()
        let store = try Scratch.store("streamed")
        let client = RegistryClient()
        let reference = try ImageReference(parsing: "\(registry.address)/team/streamed:1")
        let upload = try #require(await StreamedUpload.start(with: client, to: reference))
        let written = try await Self.writeLayer(into: store, streamingTo: upload)

        #expect(await upload.finish(digest: written.descriptor.digest))
        #expect(try await client.blobSize(written.descriptor.digest, in: reference) == written.descriptor.size)
        #expect(try await client.pushBlob(written.descriptor, from: store, to: reference) == .existed)
        let fetched = try Scratch.store("fetched")
        try await client.fetchBlob(written.descriptor, from: reference, into: fetched)
        #expect(try fetched.data(written.descriptor.digest) == store.data(written.descriptor.digest))
    }

    @Test func aRefusedStreamLeavesTheBlobToThePush() async throws {
        let registry = try await RegistryHarness.start()
        let proxy = try await FaultProxy.start(
            upstream: registry.address, rules: [.init(method: "PATCH", uriContains: "/blobs/uploads/", fault: .status(500, retryAfter: nil))])
        defer { proxy.stop() }
        let store = try Scratch.store("refused")
        let client = RegistryClient()
        let reference = try ImageReference(parsing: "\(proxy.address)/team/refused:1")
        let upload = try #require(await StreamedUpload.start(with: client, to: reference))
        let written = try await Self.writeLayer(into: store, streamingTo: upload)

        #expect(await upload.finish(digest: written.descriptor.digest) == false)
        #expect(proxy.injected == 1)
        #expect(try await client.blobSize(written.descriptor.digest, in: reference) == nil)
        #expect(try await client.pushBlob(written.descriptor, from: store, to: reference) == .uploaded)
        #expect(try await client.blobSize(written.descriptor.digest, in: reference) == written.descriptor.size)
    }
}
