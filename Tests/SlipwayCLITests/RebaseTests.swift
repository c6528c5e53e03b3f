import Foundation
import SlipwayOCI
import SlipwayTesting
import Testing

/// (Its containers use no run network: CmdStepTests checks the host's networks while it runs.)
/// The `rebase` step end to end against the real registry: a COPY-only app moved onto its
/// base's new content runs, and unpacked (by umoci) equals a full rebuild on the new base; each
/// unsafe case is refused with its reason and pushes nothing.
@Suite(.serialized)
struct RebaseTests {
    let slipway = CommandRunner.slipway()

    /// The app: a static binary in its own layer, and defaults of its own over the base's.
    static func appContext(run: Bool = false) throws -> URL {
        let context = try Scratch.files([
            "Dockerfile": """
                ARG BASE
                FROM $BASE
                COPY busybox /app/busybox
                ENV GREETING=hello
                WORKDIR /app
                \(run ? "RUN /app/busybox touch /app/ran\n" : "")CMD ["/app/busybox", "echo", "app"]
                """,
        ], label: "rebase-app")
        try FileManager.default.copyItem(atPath: BusyboxImage.binary, toPath: context.appendingPathComponent("busybox").path)
        return context
    }

    /// The busybox base, and its "v2": one more file and a changed default.
    static func baseContext(version: Int) throws -> URL {
        let context = try BusyboxImage.context()
        if version > 1 {
            try "base v\(version)\n".write(to: context.appendingPathComponent("rootfs/etc/base-release"), atomically: false, encoding: .utf8)
            let dockerfile = context.appendingPathComponent("Dockerfile")
            let text = try String(contentsOf: dockerfile, encoding: .utf8) + "\nENV BASE_VERSION=\(version)\nLABEL base.version=\(version)\n"
            try text.write(to: dockerfile, atomically: false, encoding: .utf8)
        }
        return context
    }

    func run(_ recipe: String, state: URL, values: [String: String] = [:]) async throws -> CommandRunner.Result {
        let file = try Scratch.recipe(recipe)
        let sets = values.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }
        return try await slipway.run(["run", file, "--state-dir", state.path] + sets)
    }

    static let buildAndPush = """
        local image = build { id = "image", context = values.context, build_args = { BASE = values.base }, tags = { values.tag }, pull = true }
        return pipeline { steps = { image, push { id = "push", inputs = { image } } } }
        """

    static let rebaseAndRun = """
        local moved = rebase { id = "rebase", image = values.image, base = values.base, old_base = values.old_base, tags = { values.target },
                               force = values.force == "true" }
        local check = cmd { id = "check", image = values.target, pull = true, after = { moved }, network = "none", args = { "/app/busybox", "sh", "-c", "/app/busybox echo rebased-ok; cat /etc/base-release" } }
        return pipeline { steps = { moved, check } }
        """

    /// Unpacks `reference` with umoci (from an OCI layout skopeo writes) and lists its tree.
    func unpacked(_ reference: String) async throws -> (tree: [String], config: [String: Any]) {
        let layout = Scratch.location("rebase-layout")
        try await Shell.run("skopeo", ["copy", "--src-tls-verify=false", "docker://\(reference)", "oci:\(layout.path):image"])
        let bundle = Scratch.location("rebase-bundle")
        try await Shell.run("umoci", ["unpack", "--image", "\(layout.path):image", bundle.path])
        let rootfs = bundle.appendingPathComponent("rootfs").path
        let tree = try await Shell.run("find", [rootfs, "-printf", "%P %y %m %U:%G %s %l\\n"])
            .split(separator: "\n").map(String.init).sorted()
        let config = try await Shell.run("skopeo", ["inspect", "--tls-verify=false", "--config", "docker://\(reference)"])
        return (tree, try #require(try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any]))
    }

    @Test func aRebasedImageRunsAndEqualsARebuildOnTheNewBase() async throws {
        try Prerequisites.require(["runc", "skopeo", "umoci", "docker-registry"])
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let reg = registry.address
        let state = Scratch.location("rebase-state")
        let base = "\(reg)/os/busybox:1"
        let app = try Self.appContext()

        #expect(try await run(Self.buildAndPush, state: state, values: ["context": try Self.baseContext(version: 1).path, "base": "scratch", "tag": base]).status == 0)
        let built = try await run(Self.buildAndPush, state: state, values: ["context": app.path, "base": base, "tag": "\(reg)/team/app:1"])
        #expect(built.status == 0, "\(built.stderr)")
        let v2 = try await run(Self.buildAndPush, state: state, values: ["context": try Self.baseContext(version: 2).path, "base": "scratch", "tag": base])
        #expect(v2.status == 0, "\(v2.stderr)")

        let blobUploadsBefore = registry.requestCount(method: "PUT", uriContains: "/v2/team/app/blobs/uploads/")
        let moved = try await run(Self.rebaseAndRun, state: state, values: ["image": "\(reg)/team/app:1", "base": base, "target": "\(reg)/team/app:rebased"])
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(moved.stderr.contains("rebased-ok") && moved.stderr.contains("base v2"), "the rebased image runs its own binary on the new base: \(moved.stderr)")
        #expect(moved.stderr.contains("of which layers 0 bytes"), "\(moved.stderr)")
        // Only the new config was uploaded; the base's layers were mounted, the app's were there.
        #expect(registry.requestCount(method: "PUT", uriContains: "/v2/team/app/blobs/uploads/") - blobUploadsBefore == 1)

        let rebuilt = try await run(Self.buildAndPush, state: state, values: ["context": app.path, "base": base, "tag": "\(reg)/team/app:rebuilt"])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        let (rebasedTree, rebasedConfig) = try await unpacked("\(reg)/team/app:rebased")
        let (rebuiltTree, rebuiltConfig) = try await unpacked("\(reg)/team/app:rebuilt")
        #expect(rebasedTree.contains { $0.hasPrefix("etc/base-release ") } && rebasedTree.contains { $0.hasPrefix("app/busybox ") })
        #expect(rebasedTree == rebuiltTree)
        for key in ["config", "rootfs", "architecture", "os"] {
            #expect(
                NSDictionary(dictionary: [key: rebasedConfig[key] as Any]).isEqual(to: [key: rebuiltConfig[key] as Any]),
                "\(key): rebased \(rebasedConfig[key] ?? "nil"), rebuilt \(rebuiltConfig[key] ?? "nil")")
        }
        let history = { (config: [String: Any]) in (config["history"] as? [[String: Any]])?.compactMap { $0["created_by"] as? String } }
        #expect(history(rebasedConfig) == history(rebuiltConfig))
        let env = (rebasedConfig["config"] as? [String: Any])?["Env"] as? [String]
        #expect(env?.contains("BASE_VERSION=2") == true && env?.contains("GREETING=hello") == true)

        // The rebased image's record makes it rebasable again, in place this time.
        let v3 = try await run(Self.buildAndPush, state: state, values: ["context": try Self.baseContext(version: 3).path, "base": "scratch", "tag": base])
        #expect(v3.status == 0)
        let again = try await run(Self.rebaseAndRun, state: state, values: ["image": "\(reg)/team/app:rebased", "base": base, "target": "\(reg)/team/app:rebased"])
        #expect(again.status == 0 && again.stderr.contains("base v3"), "\(again.stderr)")
    }

    @Test func unsafeRebasesAreRefusedWithTheReasonAndPushNothing() async throws {
        try Prerequisites.require(["runc", "skopeo", "docker-registry"])
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let reg = registry.address
        let state = Scratch.location("rebase-state")
        let base = "\(reg)/os/busybox:1"
        #expect(try await run(Self.buildAndPush, state: state, values: ["context": try Self.baseContext(version: 1).path, "base": "scratch", "tag": base]).status == 0)
        let ran = try await run(Self.buildAndPush, state: state, values: ["context": try Self.appContext(run: true).path, "base": base, "tag": "\(reg)/team/ran:1"])
        #expect(ran.status == 0, "\(ran.stderr)")
        let copied = try await run(Self.buildAndPush, state: state, values: ["context": try Self.appContext().path, "base": base, "tag": "\(reg)/team/app:1"])
        #expect(copied.status == 0)
        #expect(try await run(Self.buildAndPush, state: state, values: ["context": try Self.baseContext(version: 2).path, "base": "scratch", "tag": base]).status == 0)

        func refused(_ values: [String: String], _ reason: String, state: URL) async throws {
            let target = values["target"]!
            let result = try await run(Self.rebaseAndRun, state: state, values: values)
            #expect(result.status != 0 && result.stderr.contains(reason), "\(values): \(result.stderr)")
            let pushed = try? await Shell.run("skopeo", ["inspect", "--tls-verify=false", "--raw", "docker://\(target)"])
            #expect(pushed == nil, "nothing may be pushed to \(target)")
        }
        // A RUN layer above the base.
        try await refused(
            ["image": "\(reg)/team/ran:1", "base": base, "target": "\(reg)/team/ran:rebased"],
            "layer 2 above the base came from 'RUN /app/busybox touch /app/ran', whose result depends on the old base", state: state)
        // Built elsewhere (a state directory with no record of it): history is not proof by default.
        try await refused(
            ["image": "\(reg)/team/app:1", "base": base, "target": "\(reg)/team/app:elsewhere"],
            "Slipway has no build record of", state: Scratch.location("rebase-other-state"))
        // The old base given is not what the image was built on.
        let ranManifest = try await Shell.run("skopeo", ["inspect", "--tls-verify=false", "--raw", "docker://\(reg)/team/ran:1"])
        try await refused(
            ["image": "\(reg)/team/app:1", "base": base, "old_base": "\(reg)/team/ran@\(Digest.sha256(of: Data(ranManifest.utf8)))",
             "target": "\(reg)/team/app:moved"],
            "its layer 2 is not the old base's", state: state)
        // A base other than the one the image records is another base, not a base update.
        let nested = try await run(Self.buildAndPush, state: state, values: ["context": try Self.appContext().path, "base": "\(reg)/team/app:1", "tag": "\(reg)/team/nested:1"])
        #expect(nested.status == 0)
        try await refused(
            ["image": "\(reg)/team/nested:1", "base": base, "target": "\(reg)/team/nested:rebased"],
            "it was built on \(reg)/team/app:1, not \(base); give the old base", state: state)
    }
}
