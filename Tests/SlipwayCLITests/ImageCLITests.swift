import Foundation
import SlipwayOCI
import SlipwayTesting
import Testing

/// `slipway image ...` against the real registry, as an operator runs it.
@Suite(.serialized)
struct ImageCLITests {
    let slipway = CommandRunner.slipway()

    func stateDir() -> String { Scratch.location("cli-state").path }

    @Test func copyPullPushListInspectTagRemoveCollect() async throws {
        let registry = try await RegistryHarness.start()
        let layout = Scratch.location("cli-layout")
        let image = try OCITestImages.write(into: try ContentStore(root: layout), files: ["hello": "world"], tag: "v1")
        let env = ["SLIPWAY_STATE_DIR": stateDir()]
        let base = "\(registry.address)/cli/base:1"

        let copy = try await slipway.run(["image", "copy", "oci:\(layout.path):v1", base], environment: env)
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(copy.stdout == "\(image.manifest.digest)\n")

        let pull = try await slipway.run(["image", "pull", base], environment: env)
        #expect(pull.stdout == "\(image.manifest.digest)\n")

        #expect(try await slipway.run(["image", "tag", base, "\(registry.address)/cli/other:2"], environment: env).status == 0)
        let push = try await slipway.run(["image", "push", "\(registry.address)/cli/other:2"], environment: env)
        #expect(push.status == 0)
        #expect(push.stderr.contains("mounted 2"))

        let list = try await slipway.run(["image", "ls", "--json"], environment: env)
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.compactMap { $0["name"] as? String } == [base, "\(registry.address)/cli/other:2"])

        let inspect = try await slipway.run(["image", "inspect", "--json", base], environment: env)
        let details = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
        #expect(details?["digest"] as? String == image.manifest.digest.description)
        #expect(((details?["config"] as? [String: Any])?["config"] as? [String: Any])?["Cmd"] as? [String] == ["/bin/sh"])

        // Inspecting something only the registry has reads it from there.
        let remote = try await slipway.run(["image", "inspect", "\(registry.address)/cli/other:2"], environment: ["SLIPWAY_STATE_DIR": stateDir()])
        #expect(remote.stdout.contains("digest:    \(image.manifest.digest)"))

        #expect(try await slipway.run(["image", "rm", base, "\(registry.address)/cli/other:2"], environment: env).status == 0)
        let gc = try await slipway.run(["image", "gc", "--grace", "0"], environment: env)
        #expect(gc.stdout.hasPrefix("removed 3 blob(s)"))
    }

    @Test func copyRegistryToRegistryAndStoreToLayout() async throws {
        try Prerequisites.require(["skopeo"])
        let registry = try await RegistryHarness.start()
        let layout = Scratch.location("cli-layout")
        let image = try OCITestImages.write(into: try ContentStore(root: layout), files: ["x": "y"], tag: "v1")
        let env = ["SLIPWAY_STATE_DIR": stateDir()]
        #expect(try await slipway.run(["image", "copy", "oci:\(layout.path):v1", "\(registry.address)/src/app:1"], environment: env).status == 0)
        // Registry to registry (same registry, another repository: blobs are mounted).
        let copy = try await slipway.run(
            ["image", "copy", "docker://\(registry.address)/src/app:1", "docker://\(registry.address)/dst/app:1"], environment: env)
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(registry.requestCount(method: "PUT", uriContains: "/v2/dst/app/blobs/uploads/") == 0)
        let raw = try await Shell.run("skopeo", ["inspect", "--tls-verify=false", "--raw", "docker://\(registry.address)/dst/app:1"])
        #expect(Digest.sha256(of: Data(raw.utf8)) == image.manifest.digest)
        // Store to an OCI layout directory, read back by skopeo.
        let exported = Scratch.location("cli-export")
        #expect(try await slipway.run(["image", "copy", "store:\(registry.address)/src/app:1", "oci:\(exported.path):out"], environment: env).status == 0)
        let inspected = try await Shell.run("skopeo", ["inspect", "--raw", "oci:\(exported.path):out"])
        #expect(Digest.sha256(of: Data(inspected.utf8)) == image.manifest.digest)
    }

    @Test func errorsExitWithTheDocumentedStatus() async throws {
        let registry = try await RegistryHarness.start()
        let env = ["SLIPWAY_STATE_DIR": stateDir()]
        let missing = try await slipway.run(["image", "pull", "\(registry.address)/none:1"], environment: env)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("\(registry.address)/none:1"))
        let malformed = try await slipway.run(["image", "pull", "Upper/Case"], environment: env)
        #expect(malformed.status == 64)
        #expect(malformed.stderr.contains("must be lowercase"))
        let notLocal = try await slipway.run(["image", "push", "\(registry.address)/never/pulled:1"], environment: env)
        #expect(notLocal.status == 64)
        #expect(notLocal.stderr.contains("no image named"))
    }

    @Test func credentialsFromDockerConfigReachTheCLI() async throws {
        let registry = try await RegistryHarness.start(auth: .basic(username: "carol", password: "s3cret-pass"))
        let config = Scratch.location("cli-docker")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        let auth = Data("carol:s3cret-pass".utf8).base64EncodedString()
        try #"{"auths":{"\#(registry.address)":{"auth":"\#(auth)"}}}"#.write(
            to: config.appendingPathComponent("config.json"), atomically: false, encoding: .utf8)
        let layout = Scratch.location("cli-layout")
        _ = try OCITestImages.write(into: try ContentStore(root: layout), files: ["a": "b"], tag: "v1")
        let ok = try await slipway.run(
            ["image", "copy", "oci:\(layout.path):v1", "\(registry.address)/private:1"],
            environment: ["SLIPWAY_STATE_DIR": stateDir(), "DOCKER_CONFIG": config.path])
        #expect(ok.status == 0, "\(ok.stderr)")
        let refused = try await slipway.run(
            ["image", "pull", "\(registry.address)/private:1"], environment: ["SLIPWAY_STATE_DIR": stateDir(), "DOCKER_CONFIG": "/nonexistent"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("authentication required by \(registry.address)"))
        #expect(!refused.stderr.contains("s3cret-pass"))
    }

    @Test func digestMatchesSha256sum() async throws {
        let file = Scratch.location("digest")
        try Data((0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 * 7) }).write(to: file)
        let ours = try await slipway.run(["digest", file.path])
        let theirs = try await Shell.run("sha256sum", [file.path])
        #expect(ours.stdout.split(separator: " ").first == "sha256:" + theirs.split(separator: " ")[0])
    }
}

@Suite(.serialized)
struct ImageCLIConcurrencyAndFormatTests {
    let slipway = CommandRunner.slipway()

    @Test func twoProcessesPullingIntoOneStoreAgree() async throws {
        let registry = try await RegistryHarness.start()
        let layout = Scratch.location("cli-layout")
        _ = try OCITestImages.write(into: try ContentStore(root: layout), files: ["big": String(repeating: "z", count: 2_000_000)], tag: "v1")
        let reference = "\(registry.address)/shared:1"
        let setup = Scratch.location("cli-setup").path
        #expect(try await slipway.run(["image", "copy", "oci:\(layout.path):v1", reference], environment: ["SLIPWAY_STATE_DIR": setup]).status == 0)

        let shared = Scratch.location("cli-shared").path
        async let first = slipway.run(["image", "pull", reference], environment: ["SLIPWAY_STATE_DIR": shared])
        async let second = slipway.run(["image", "pull", reference], environment: ["SLIPWAY_STATE_DIR": shared])
        let results = try await [first, second]
        #expect(results.allSatisfy { $0.status == 0 })
        #expect(Set(results.map(\.stdout)).count == 1)
        let store = try ContentStore(root: URL(fileURLWithPath: shared).appendingPathComponent("oci"))
        #expect(try store.tags().count == 1)
        #expect(try store.reachableBlobs().count == 3)
        for digest in try store.reachableBlobs() { _ = try store.data(digest) }  // every blob verifies
    }

    @Test func dockerFormatOnRequest() async throws {
        try Prerequisites.require(["skopeo"])
        let registry = try await RegistryHarness.start()
        let layout = Scratch.location("cli-layout")
        _ = try OCITestImages.write(into: try ContentStore(root: layout), files: ["a": "b"], tag: "v1")
        let reference = "\(registry.address)/docker/format:1"
        let state = Scratch.location("cli-state").path
        let copy = try await slipway.run(["image", "copy", "--format", "docker", "oci:\(layout.path):v1", reference], environment: ["SLIPWAY_STATE_DIR": state])
        #expect(copy.status == 0, "\(copy.stderr)")
        let raw = try await Shell.run("skopeo", ["inspect", "--tls-verify=false", "--raw", "docker://\(reference)"])
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(raw.utf8))
        #expect(manifest.mediaType == MediaType.dockerManifest)
        #expect(manifest.config.mediaType == MediaType.dockerConfig)
    }
}
