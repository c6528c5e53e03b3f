import Foundation
import Logging
import SlipwayKernel
@testable import Triggers
import Testing

/// `base_image`: a new digest behind a recorded base (per platform) is one event, whatever the
/// number of checks; scope decides whether build-time bases count.
struct BaseImageTriggerTests {
    func context(current: [String: String], platform seen: LockedPlatforms) -> StepContext {
        var services = HostServices()
        services[BaseImageWatchService.self] = BaseImageWatch(
            runtimeBase: BaseImage(reference: "r.test/os:1", digest: "sha256:old"),
            buildTimeBases: [BaseImage(reference: "r.test/sdk:1", digest: "sha256:sdk")], platform: "linux/arm64/v8",
            currentDigest: { reference, platform in
                seen.add(platform)
                return current[reference]
            })
        return StepContext(runID: "check", stepID: StepID("trigger"), logger: Logger(label: "test"), workDirectory: "/tmp", services: services)
    }

    final class LockedPlatforms: @unchecked Sendable {
        private let lock = NSLock()
        private var values: Set<String> = []
        func add(_ value: String) { lock.withLock { _ = values.insert(value) } }
        var all: Set<String> { lock.withLock { values } }
    }

    @Test func aNewRuntimeDigestIsOneEvent() async throws {
        let trigger = try BaseImageTrigger(configuration: .init(scope: nil, strategy: nil))
        let platforms = LockedPlatforms()
        let unchanged = context(current: ["r.test/os:1": "sha256:old", "r.test/sdk:1": "sha256:sdk2"], platform: platforms)
        #expect(try await trigger.check(after: nil, in: unchanged).isEmpty, "runtime scope ignores the build-time base")
        let moved = context(current: ["r.test/os:1": "sha256:new"], platform: platforms)
        let events = try await trigger.check(after: nil, in: moved)
        #expect(events.map(\.facts) == [[
            "base_image": "r.test/os:1", "base_digest": "sha256:new", "base_previous_digest": "sha256:old", "base_scope": "runtime", "strategy": "rebuild",
        ]])
        #expect(try await trigger.check(after: events[0].version, in: moved).isEmpty, "the same digest is not reported twice")
        #expect(platforms.all == ["linux/arm64/v8"], "bases are resolved for the recorded image's platform")
        let gone = context(current: [:], platform: platforms)
        #expect(try await trigger.check(after: nil, in: gone).isEmpty, "a base the registry no longer has starts nothing")
    }

    @Test func allScopeWatchesBuildTimeBases() async throws {
        let trigger = try BaseImageTrigger(configuration: .init(scope: "all", strategy: "auto"))
        let events = try await trigger.check(after: nil, in: context(current: ["r.test/os:1": "sha256:old", "r.test/sdk:1": "sha256:sdk2"], platform: LockedPlatforms()))
        #expect(events.first?.facts["base_image"] == "r.test/sdk:1")
        #expect(events.first?.facts["base_scope"] == "build" && events.first?.facts["strategy"] == "auto")
        #expect(throws: ConfigurationError.self) { try BaseImageTrigger(configuration: .init(scope: "everything", strategy: nil)) }
        #expect(throws: ConfigurationError.self) { try BaseImageTrigger(configuration: .init(scope: nil, strategy: "patch")) }
    }
}
