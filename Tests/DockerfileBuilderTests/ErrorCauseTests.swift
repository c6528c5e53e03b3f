import DockerfileBuilder
import Foundation
import SlipwayDockerfile
import SlipwayKernel
import SlipwayOCI
import SlipwayTesting
import Testing

/// A build error says where (file:line) and keeps why as a value: a base the registry refuses
/// is a Dockerfile error whose cause is the registry's error, and the category (what decides
/// the exit and HTTP status) is the cause's, not "invalid input".
struct ErrorCauseTests {
    @Test func aBaseTheRegistryRefusesKeepsTheRegistryErrorAsItsCause() async throws {
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nFROM \(registry.address)/absent/base:1\n"])
        let builder = NativeDockerfileBuilder(store: try Scratch.store(), registry: RegistryClient())
        let error = await #expect(throws: DockerfileError.self) { try await builder.build(BuildRequest(context: context)) }
        let failure = try #require(error)
        #expect(failure.location.line == 2 && failure.instruction == "FROM")
        let cause = try #require(failure.cause as? RegistryError)
        #expect(cause.kind == .notFound)
        #expect(failure.category == .notFound)
        #expect(ErrorCategory.chain(of: failure).count == 2)
        // The text still reads as one sentence, the cause's words after the line's.
        #expect(failure.description.hasPrefix("Dockerfile:2: FROM: base image \(registry.address)/absent/base:1 is not available from \(registry.address): http://"), "\(failure)")
    }
}
