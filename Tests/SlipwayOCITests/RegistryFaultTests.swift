import Foundation
import SlipwayOCI
import SlipwayTesting
import Testing

/// Faults a real registry cannot produce on demand, injected by a proxy on a real socket.
@Suite(.serialized)
struct RegistryFaultTests {
    let quickRetries = RegistryClient.Configuration(retry: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(20)))

    func image(size: Int) throws -> (ContentStore, OCITestImages.Written) {
        let store = try ContentStore(root: Scratch.location("fault"))
        var payload = ""
        for index in 0..<(size / 16) { payload += String(format: "%015d\n", index) }
        return (store, try OCITestImages.write(into: store, files: ["payload": payload]))
    }

    @Test func connectionDroppedMidUploadIsRetried() async throws {
        let registry = try await RegistryHarness.start()
        let proxy = try await FaultProxy.start(
            upstream: registry.address,
            rules: [.init(method: "PUT", uriContains: "/blobs/uploads/", fault: .dropMidBody(afterBytes: 50_000))])
        let (store, image) = try image(size: 300_000)
        let reference = try ImageReference(parsing: "\(proxy.address)/flaky/app:1")
        let report = try await RegistryClient(configuration: quickRetries).push(image.manifest, from: store, to: reference)
        #expect(proxy.injected == 1)
        #expect(report.uploaded == 2)
        // The registry itself now serves the complete, verified image.
        let check = try ContentStore(root: store.root.deletingLastPathComponent().appendingPathComponent("check-\(UUID().uuidString)"))
        let pulled = try await RegistryClient().pull(try ImageReference(parsing: "\(registry.address)/flaky/app:1"), into: check)
        #expect(pulled.descriptor.digest == image.manifest.digest)
    }

    @Test func chunkedUploadSurvivesADroppedChunk() async throws {
        let registry = try await RegistryHarness.start()
        let proxy = try await FaultProxy.start(
            upstream: registry.address,
            rules: [.init(method: "PATCH", uriContains: "/blobs/uploads/", fault: .dropMidBody(afterBytes: 10_000))])
        let (store, image) = try image(size: 200_000)
        var configuration = quickRetries
        configuration.chunkedUploadThreshold = 50_000
        configuration.chunkSize = 64 << 10
        let reference = try ImageReference(parsing: "\(proxy.address)/chunked/app:1")
        let report = try await RegistryClient(configuration: configuration).push(image.manifest, from: store, to: reference)
        #expect(proxy.injected == 1)
        #expect(report.uploaded == 2)
        #expect(registry.requestCount(method: "PATCH", uriContains: "/v2/chunked/app/blobs/uploads/") >= 4)
    }

    @Test func serviceUnavailableIsRetriedHonouringRetryAfter() async throws {
        let registry = try await RegistryHarness.start()
        let (store, image) = try image(size: 1000)
        let reference = try ImageReference(parsing: "\(registry.address)/busy/app:1")
        _ = try await RegistryClient().push(image.manifest, from: store, to: reference)
        let proxy = try await FaultProxy.start(
            upstream: registry.address,
            rules: [
                .init(method: "GET", uriContains: "/manifests/", fault: .status(503, retryAfter: "1"), times: 1),
                .init(method: "GET", uriContains: "/blobs/", fault: .status(429, retryAfter: nil), times: 2),
            ])
        let destination = try ContentStore(root: store.root.deletingLastPathComponent().appendingPathComponent("busy-\(UUID().uuidString)"))
        let clock = ContinuousClock()
        let start = clock.now
        let report = try await RegistryClient(configuration: quickRetries).pull(
            try ImageReference(parsing: "\(proxy.address)/busy/app:1"), into: destination)
        #expect(report.descriptor.digest == image.manifest.digest)
        #expect(proxy.injected == 3)
        // Retry-After: 1 was honoured (a lower bound, not a speed requirement).
        #expect(clock.now - start >= .seconds(1))
    }

    @Test func persistentFailureIsReportedWithTheURL() async throws {
        let registry = try await RegistryHarness.start()
        let proxy = try await FaultProxy.start(
            upstream: registry.address, rules: [.init(method: "GET", uriContains: "/v2/", fault: .status(502, retryAfter: nil), times: 100)])
        await #expect {
            try await RegistryClient(configuration: quickRetries).ping(proxy.address)
        } throws: { error in
            let text = String(describing: error)
            return (error as? RegistryError)?.kind == .unavailable && text.contains("http://\(proxy.address)/v2/") && text.contains("HTTP 502")
        }
        #expect(proxy.injected == 4)
    }
}

struct UnreachableRegistryTests {
    @Test func refusedConnectionFailsAfterTheRetryPolicyNotTheRequestDeadline() async throws {
        let port = try RegistryHarness.freePort()  // nothing listens there
        let client = RegistryClient(configuration: .init(retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20))))
        let clock = ContinuousClock()
        let start = clock.now
        await #expect {
            try await client.ping("127.0.0.1:\(port)")
        } throws: { error in
            (error as? RegistryError)?.kind == .transport && String(describing: error).contains("http://127.0.0.1:\(port)/v2/")
                && String(describing: error).contains("after 3 attempt(s)")
        }
        // A regression guard, not a speed test: AsyncHTTPClient's own reconnects used to hold a
        // refused request until its 10-minute deadline.
        #expect(clock.now - start < .seconds(60))
    }

    /// A registry (or something posing as one) that answers with a manifest past the 4 MiB the
    /// distribution registry allows: refused by name, not as NIO's "too many bytes".
    @Test func anOversizedManifestIsRefusedByName() async throws {
        let server = try await LoopbackHTTPServer.start { request in
            request.uri.hasPrefix("/v2/huge/")
                ? .init(status: 200, headers: [("Content-Type", MediaType.ociManifest)], body: Data(count: 5 << 20))
                : .init(status: 200)
        }
        defer { server.stop() }
        let reference = try ImageReference(parsing: "127.0.0.1:\(server.port)/huge/app:1")
        let error = await #expect(throws: RegistryError.self) { try await RegistryClient().manifest(reference) }
        #expect(error?.description.contains("the manifest of \(reference) is larger than 4 MiB; refusing it") == true, "\(error.map { "\($0)" } ?? "")")
        #expect(error?.description.contains("NIOTooManyBytes") == false)
    }
}
