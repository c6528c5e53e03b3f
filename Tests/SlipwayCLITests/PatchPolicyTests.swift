import Foundation
import SlipwayOCI
import SlipwayTesting
import Testing

/// `base_image { strategy = "auto" }` under a real `slipway serve`: a new base pushed to the
/// registry (its notification pointed at serve) rebases the COPY-only app in the registry and
/// rebuilds the app with a RUN layer; each run's log says which and why.
@Suite(.serialized)
struct PatchPolicyTests {
    let slipway = CommandRunner.slipway()
    static let recipe = (try? String(contentsOf: CLITests.root.appendingPathComponent("Recipes/patch-on-base-update.lua"), encoding: .utf8)) ?? ""

    func createTask(_ values: [String: String], on server: ServeHarness) async throws {
        let file = try Scratch.recipe(Self.recipe)
        let sets = values.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }
        let result = try await slipway.run(["task", "create", "--file", file, "--server", server.url] + sets)
        #expect(result.status == 0, "\(result.stderr)")
    }

    func pushBase(version: Int, to reference: String) async throws {
        let context = try RebaseTests.baseContext(version: version)
        let build = try await slipway.run(["build", "-t", reference, context.path], environment: ["SLIPWAY_STATE_DIR": Scratch.location("patch-base-state").path])
        #expect(build.status == 0, "\(build.stderr)")
    }

    func logs(_ run: [String: Any], on server: ServeHarness) async throws -> String {
        try await slipway.run(["logs", run["id"] as! String, "--server", server.url]).stdout
    }

    @Test func autoRebasesWhatIsProvenSafeAndRebuildsTheRest() async throws {
        try Prerequisites.require(["runc", "docker-registry"])
        let server = try await ServeHarness.start(["--base-poll-interval", "1h", "--debounce", "100ms"])
        let registry = try await RegistryHarness.start(notify: server.url + "/hooks/registry")
        defer { registry.stop() }
        let reg = registry.address
        let base = "\(reg)/os/busybox:1"
        try await pushBase(version: 1, to: base)
        try await createTask(["name": "copied", "context": try RebaseTests.appContext().path, "base": base, "image": "\(reg)/team/copied:1"], on: server)
        try await createTask(["name": "ran", "context": try RebaseTests.appContext(run: true).path, "base": base, "image": "\(reg)/team/ran:1"], on: server)
        for task in ["copied", "ran"] {
            let result = try await slipway.run(["task", "run", task, "--wait", "--server", server.url])
            #expect(result.status == 0, "\(task): \(result.stderr)")
        }

        try await pushBase(version: 2, to: base)
        try await server.wait("both tasks patched", timeout: .seconds(60)) {
            let runs = try await server.runs(task: "copied") + server.runs(task: "ran")
            return runs.filter { $0["trigger"] as? String == "base_image" && $0["status"] as? String == "succeeded" }.count == 2
        }
        let copied = try #require(try await server.runs(task: "copied").first { $0["trigger"] as? String == "base_image" })
        let copiedLog = try await logs(copied, on: server)
        #expect(copiedLog.contains("patch decision: rebase, as the 1 layer(s) above the base came from COPY, ADD or metadata"), "\(copiedLog)")
        #expect(copiedLog.contains("[rebase] rebased") && copiedLog.contains("of which layers 0 bytes"), "\(copiedLog)")
        let ran = try #require(try await server.runs(task: "ran").first { $0["trigger"] as? String == "base_image" })
        let ranLog = try await logs(ran, on: server)
        #expect(ranLog.contains("patch decision: rebuild, as layer 2 of the last image came from RUN"), "\(ranLog)")
        #expect(ranLog.contains("[image]"), "the task's own pipeline ran")

        // Both images now name the new base; the rebased one runs on it.
        let newBase = try await RegistryClient().headManifest(try ImageReference(parsing: base))
        for image in ["copied", "ran"] {
            let manifest = try await RegistryClient().manifest(try ImageReference(parsing: "\(reg)/team/\(image):1"))
            let parsed = try JSONDecoder().decode(ImageManifest.self, from: manifest.data)
            #expect(parsed.annotations?[Annotation.baseDigest] == newBase?.digest.description, "\(image)")
        }
        // Nothing else follows: the records now name the new base.
        try await Task.sleep(for: .seconds(2))
        #expect(try await server.runs(task: "copied").filter { $0["trigger"] as? String == "base_image" }.count == 1)
    }
}
