import Crypto
import Foundation
import SlipwayKernel
import SlipwayOCI
import SlipwayStore
import SlipwayTesting
import Testing

/// `slipway serve` end to end with real parts: the binary, the CNCF registry sending its
/// notifications, `git daemon`, skopeo, and signed webhooks over HTTP.
@Suite(.serialized)
struct ServeTests {
    let slipway = CommandRunner.slipway()
    let secret = "webhook-secret-\(UUID().uuidString.prefix(8))"

    /// The shipped task that rebuilds on a base change (a build whose base is a build argument,
    /// and a push).
    static let imageTask = (try? String(contentsOf: CLITests.root.appendingPathComponent("Recipes/rebuild-on-base.lua"), encoding: .utf8)) ?? ""

    /// A task that builds the commit a trigger names (the branch head for a manual run).
    static let gitTask = """
        return task {
          name = "app",
          triggers = { commit { url = values.repo, branch = "main" }, pull_request { branch = "main" } },
          pipeline = function(run)
            return { build { id = "image", context = git { url = values.repo, ref = run.commit }, tags = { "slipway.test/app:" .. run.id } } }
          end,
        }
        """

    func context(_ name: String, content: String) throws -> URL {
        let folder = try Scratch.directory("serve-ctx-\(name)")
        try "ARG BASE\nFROM $BASE\nCOPY \(name).txt /\(name).txt\n".write(to: folder.appendingPathComponent("Dockerfile"), atomically: false, encoding: .utf8)
        try content.write(to: folder.appendingPathComponent("\(name).txt"), atomically: false, encoding: .utf8)
        return folder
    }

    func createTask(_ text: String, values: [String: String], on server: ServeHarness) async throws {
        let file = try Scratch.recipe(text)
        let sets = values.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }
        let result = try await slipway.run(["task", "create", "--file", file, "--server", server.url] + sets)
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// Runs the task by hand and waits for its outcome (through `task run --wait`).
    func runByHand(_ task: String, on server: ServeHarness) async throws {
        let result = try await slipway.run(["task", "run", task, "--wait", "--server", server.url])
        #expect(result.status == 0, "\(task): \(result.stdout) \(result.stderr)")
    }

    func runs(_ server: ServeHarness, task: String, trigger: String) async throws -> [[String: Any]] {
        try await server.runs(task: task).filter { $0["trigger"] as? String == trigger }
    }

    /// Pushes a one-file image to `staging`, then copies it to `destination` with skopeo, as an
    /// operator updating a base would (keeping its digest: skopeo otherwise recompresses, and a
    /// recompressed base is a new digest, which rightly rebuilds its dependents).
    func publishBase(_ content: String, staging: String, destination: String) async throws {
        let store = try ContentStore(root: Scratch.location("serve-base"))
        let image = try OCITestImages.write(into: store, files: ["base.txt": content])
        _ = try await RegistryClient().push(image.manifest, from: store, to: try ImageReference(parsing: staging))
        try await Shell.run("skopeo", ["copy", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", "docker://\(staging)", "docker://\(destination)"])
    }

    /// os → runtime → app: a new base pushed with skopeo reaches serve as a registry
    /// notification, rebuilds `runtime`, whose push rebuilds `app`; each once. The same content
    /// again starts nothing; a two-task cycle is reported and does not loop.
    @Test func aBasePushCascadesThroughItsDependentsOnce() async throws {
        try Prerequisites.require(["skopeo", "docker-registry"])
        let server = try await ServeHarness.start(["--base-poll-interval", "1h", "--debounce", "100ms"])
        let registry = try await RegistryHarness.start(notify: server.url + "/hooks/registry")
        let reg = registry.address
        try await publishBase("v1", staging: "\(reg)/staging/base:1", destination: "\(reg)/os/base:1")
        try await createTask(Self.imageTask, values: [
            "name": "runtime", "context": try context("runtime", content: "rt").path, "base": "\(reg)/os/base:1", "image": "\(reg)/team/runtime:1",
        ], on: server)
        try await createTask(Self.imageTask, values: [
            "name": "app", "context": try context("app", content: "app").path, "base": "\(reg)/team/runtime:1", "image": "\(reg)/team/app:1",
        ], on: server)
        try await runByHand("runtime", on: server)
        try await runByHand("app", on: server)
        // A manual run pushes too: the app must not be rebuilt for what it was just built on.
        try await Task.sleep(for: .seconds(1))
        #expect(try await runs(server, task: "app", trigger: "base_image").isEmpty)

        let deps = try await slipway.run(["deps", "--server", server.url, "--dot"])
        #expect(deps.stdout.contains("\"\(reg)/os/base:1\" -> \"\(reg)/team/runtime:1\""), "\(deps.stdout)")
        #expect(deps.stdout.contains("\"\(reg)/team/runtime:1\" -> \"\(reg)/team/app:1\""))

        try await publishBase("v2", staging: "\(reg)/staging/base:2", destination: "\(reg)/os/base:1")
        try await server.wait("the runtime and app rebuilt by their base") {
            let runtime = try await runs(server, task: "runtime", trigger: "base_image")
            let app = try await runs(server, task: "app", trigger: "base_image")
            return runtime.first?["status"] as? String == "succeeded" && app.first?["status"] as? String == "succeeded"
        }
        // Nothing else is coming: give stray notifications time, then count.
        try await Task.sleep(for: .seconds(2))
        #expect(try await runs(server, task: "runtime", trigger: "base_image").count == 1)
        #expect(try await runs(server, task: "app", trigger: "base_image").count == 1)
        let app = try #require(try await runs(server, task: "app", trigger: "base_image").first)
        let view = try await server.request("GET", "/api/v1/runs/\(app["id"] as! String)")
        let request = try #require((try view.json() as? [String: Any])?["request"] as? [String: Any])
        #expect((request["facts"] as? [String: String])?["base_image"] == "\(reg)/team/runtime:1")

        // The same image again: the digest behind the tag does not change, so nothing runs.
        try await Shell.run(
            "skopeo", ["copy", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", "docker://\(reg)/staging/base:2", "docker://\(reg)/os/base:1"])
        try await Task.sleep(for: .seconds(2))
        #expect(try await runs(server, task: "runtime", trigger: "base_image").count == 1)

        // c1 is built on c2's image and c2 on c1's: c2's push must not start c1, which would loop.
        try await publishBase("c", staging: "\(reg)/staging/c:1", destination: "\(reg)/loop/c2:1")
        try await createTask(Self.imageTask, values: [
            "name": "c1", "context": try context("c1", content: "c1").path, "base": "\(reg)/loop/c2:1", "image": "\(reg)/loop/c1:1",
        ], on: server)
        try await createTask(Self.imageTask, values: [
            "name": "c2", "context": try context("c2", content: "c2").path, "base": "\(reg)/loop/c1:1", "image": "\(reg)/loop/c2:1",
        ], on: server)
        try await runByHand("c1", on: server)
        try await runByHand("c2", on: server)
        try await server.wait("the cycle to be reported") { server.log.contains("dependency cycle (c1 → c2 → c1)") }
        try await Task.sleep(for: .seconds(1))
        #expect(try await runs(server, task: "c1", trigger: "base_image").isEmpty)
        let show = try await slipway.run(["task", "show", "c1", "--server", server.url])
        #expect(show.stdout.contains("not run: dependency cycle c1 → c2 → c1"), "\(show.stdout)")
    }

    func sign(_ body: Data) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))).map { String(format: "%02x", $0) }.joined()
    }

    func pushEvent(_ sha: String) -> Data {
        Data(#"{"ref":"refs/heads/main","after":"\#(sha)","repository":{"name":"app"}}"#.utf8)
    }

    func deliver(_ body: Data, to server: ServeHarness, id: String, event: String = "push", signature: String? = nil) async throws -> ServeHarness.Response {
        try await server.request(
            "POST", "/hooks/git/app",
            headers: ["X-GitHub-Event": event, "X-GitHub-Delivery": id, "X-Hub-Signature-256": signature ?? sign(body), "Content-Type": "application/json"],
            body: body)
    }

    /// Adds a commit on top of main and pushes it to `ref` of the bare repository; its sha.
    func commit(_ git: GitServer, file content: String, ref: String = "refs/heads/main") async throws -> String {
        let work = try Scratch.directory("serve-git")
        let identity = ["-c", "user.name=Slipway Test", "-c", "user.email=test@slipway.invalid"]
        try await Shell.run("git", ["clone", "-q", "--branch", "main", git.fileURL("app"), work.path])
        try content.write(to: work.appendingPathComponent("app.txt"), atomically: false, encoding: .utf8)
        try await Shell.run("git", identity + ["-C", work.path, "commit", "-qam", content])
        let sha = try await Shell.run("git", ["-C", work.path, "rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        try await Shell.run("git", ["-C", work.path, "push", "-q", "origin", "HEAD:\(ref)"])
        return sha
    }

    func startGitTask() async throws -> (GitServer, ServeHarness, URL) {
        try Prerequisites.require(["git"])
        let git = try await GitServer.start()
        try await git.createRepository("app", commits: [(branch: "main", files: ["Dockerfile": "FROM scratch\nCOPY app.txt /\n", "app.txt": "0"])])
        let secretFile = try Scratch.directory("serve-secret").appendingPathComponent("secret")
        try secret.write(to: secretFile, atomically: false, encoding: .utf8)
        return (git, try await ServeHarness.start(["--webhook-secret-file", secretFile.path, "--poll-interval", "1s"]), secretFile)
    }

    /// A signed push builds the pushed sha within seconds; a redelivery, a bad signature, a
    /// malformed body and an oversized one start nothing; a pull request builds its head.
    @Test func signedWebhooksBuildTheDeliveredCommit() async throws {
        let (git, server, _) = try await startGitTask()
        defer { git.stop() }
        try await createTask(Self.gitTask, values: ["repo": git.gitURL("app")], on: server)
        try await server.wait("the commit trigger's starting point") { server.log.contains("commit trigger starts at") }

        let sha = try await commit(git, file: "1")
        let started = ContinuousClock.now
        let accepted = try await deliver(pushEvent(sha), to: server, id: "delivery-1")
        #expect(accepted.status == 202, "\(accepted.text)")
        try await server.wait("the pushed commit built") {
            try await server.runs(task: "app").contains { $0["status"] as? String == "succeeded" && $0["trigger"] as? String == "commit" }
        }
        let latency = ContinuousClock.now - started
        let run = try #require(try await server.runs(task: "app").first { $0["trigger"] as? String == "commit" })
        let view = try #require(try await server.request("GET", "/api/v1/runs/\(run["id"] as! String)").json() as? [String: Any])
        #expect(((view["request"] as? [String: Any])?["facts"] as? [String: String])?["commit"] == sha)
        let steps = try #require(view["steps"] as? [[String: Any]])
        let context = (steps.first?["outputs"] as? [String: Any])?["context"] as? [String: Any]
        #expect(context?["commit"] as? String == sha, "the build fetched what the event named")
        print("webhook → run succeeded: \(latency)")

        // The same delivery again; the same sha by polling: neither builds twice.
        let again = try await deliver(pushEvent(sha), to: server, id: "delivery-1")
        #expect(again.status == 200 && again.text.contains("received before"))
        try await Task.sleep(for: .seconds(2))
        #expect(try await server.runs(task: "app").filter { $0["trigger"] as? String == "commit" }.count == 1)

        let count = try await server.runs(task: "app").count
        let forged = try await deliver(pushEvent(sha), to: server, id: "delivery-2", signature: "sha256=" + String(repeating: "0", count: 64))
        #expect(forged.status == 401)
        let malformed = Data("{not json".utf8)
        #expect(try await deliver(malformed, to: server, id: "delivery-3").status == 400)
        let huge = Data(repeating: 0x20, count: 2 << 20)
        let hugeAnswer = try await deliver(huge, to: server, id: "delivery-4")
        #expect(hugeAnswer.status == 413, "\(hugeAnswer.status) \(hugeAnswer.text)")
        #expect(try await server.runs(task: "app").count == count)

        // A pull request: its head is only under refs/pull/7/head, never on a branch.
        let head = try await commit(git, file: "pr", ref: "refs/pull/7/head")
        let pull = Data(#"{"action":"opened","number":7,"pull_request":{"head":{"sha":"\#(head)"},"base":{"ref":"main"}}}"#.utf8)
        #expect(try await deliver(pull, to: server, id: "delivery-5", event: "pull_request").status == 202)
        try await server.wait("the pull request built") {
            try await server.runs(task: "app").contains { $0["status"] as? String == "succeeded" && $0["trigger"] as? String == "pull_request" }
        }
        let pr = try #require(try await server.runs(task: "app").first { $0["trigger"] as? String == "pull_request" })
        let prView = try #require(try await server.request("GET", "/api/v1/runs/\(pr["id"] as! String)").json() as? [String: Any])
        let facts = (prView["request"] as? [String: Any])?["facts"] as? [String: String]
        #expect(facts?["pull_request"] == "7" && facts?["commit"] == head && facts?["ref"] == "pull/7/head")
        let prSteps = try #require(prView["steps"] as? [[String: Any]])
        #expect(((prSteps.first?["outputs"] as? [String: Any])?["context"] as? [String: Any])?["commit"] as? String == head)
    }

    /// An acr-task.yaml stored as `az acr task create` does: its source and triggers from the
    /// command line. A signed push builds the pushed sha with the file's `build … .`, which is
    /// the source at that commit; options that would be dropped are refused.
    @Test func anACRTaskFileIsStoredWithItsSourceAndTriggers() async throws {
        let (git, server, _) = try await startGitTask()
        defer { git.stop() }
        let folder = try Scratch.files([
            "acb.yaml": "version: v1.1.0\nsteps:\n  - id: image\n    build: -t slipway.test/acr:{{.Run.ID}} --build-arg NOTE={{.Values.note}} .\n",
            "climb.yaml": "steps:\n  - build: -t slipway.test/climb ../..\n",
            "task.lua": Self.gitTask,
        ], label: "acr-task")
        let yaml = folder.appendingPathComponent("acb.yaml").path
        let common = ["--server", server.url, "--context", git.gitURL("app") + "#main"]

        let unnamed = try await slipway.run(["task", "create", "--file", yaml] + common)
        #expect(unnamed.status != 0 && unnamed.stderr.contains("--name"), "\(unnamed.stderr)")
        let lua = try await slipway.run(["task", "create", "--file", folder.appendingPathComponent("task.lua").path, "--commit-trigger"] + common)
        #expect(lua.status != 0 && lua.stderr.contains("--context, --commit-trigger: "), "\(lua.stderr)")
        let climb = try await slipway.run(["task", "create", "--file", folder.appendingPathComponent("climb.yaml").path, "--name", "climb"] + common)
        #expect(climb.status != 0 && climb.stderr.contains("task:climb.yaml:2") && climb.stderr.contains("climbs out"), "\(climb.stderr)")
        let folderTrigger = try await slipway.run(
            ["task", "create", "--file", yaml, "--name", "local", "--context", folder.path, "--commit-trigger", "--server", server.url])
        #expect(folderTrigger.status != 0 && folderTrigger.stderr.contains("must be a Git repository"), "\(folderTrigger.stderr)")

        let created = try await slipway.run(["task", "create", "--file", yaml, "--name", "app", "--commit-trigger", "--set", "note=hi"] + common)
        #expect(created.status == 0, "\(created.stderr)")
        let show = try await slipway.run(["task", "show", "app", "--server", server.url])
        #expect(show.stdout.contains("acr-task.yaml") && show.stdout.contains("task app: --commit-trigger"), "\(show.stdout)")
        try await server.wait("the commit trigger's starting point") { server.log.contains("commit trigger starts at") }

        let sha = try await commit(git, file: "acr")
        #expect(try await deliver(pushEvent(sha), to: server, id: "acr-1").status == 202)
        try await server.wait("the pushed commit built") {
            try await server.runs(task: "app").contains { $0["status"] as? String == "succeeded" && $0["trigger"] as? String == "commit" }
        }
        let run = try #require(try await server.runs(task: "app").first { $0["trigger"] as? String == "commit" })
        let view = try #require(try await server.request("GET", "/api/v1/runs/\(run["id"] as! String)").json() as? [String: Any])
        let step = try #require((view["steps"] as? [[String: Any]])?.first)
        #expect(step["step"] as? String == "image")
        let outputs = step["outputs"] as? [String: Any]
        #expect((outputs?["context"] as? [String: Any])?["commit"] as? String == sha, "the build's context is the source at the pushed commit")
        #expect((outputs?["tags"] as? [String])?.first == "slipway.test/acr:\(run["id"] as! String)", "\(outputs ?? [:])")
    }

    /// Polling finds a pushed commit within an interval (1 s here), with no webhook at all.
    @Test func pollingFindsPushedCommits() async throws {
        let (git, server, _) = try await startGitTask()
        defer { git.stop() }
        try await createTask(Self.gitTask, values: ["repo": git.gitURL("app")], on: server)
        try await server.wait("the commit trigger's starting point") { server.log.contains("commit trigger starts at") }
        #expect(try await server.runs(task: "app").isEmpty, "a trigger's first check starts no run")
        let sha = try await commit(git, file: "polled")
        try await server.wait("the polled commit built", timeout: .seconds(30)) {
            try await server.runs(task: "app").contains { $0["status"] as? String == "succeeded" && $0["trigger"] as? String == "commit" }
        }
        let run = try #require(try await server.runs(task: "app").first)
        let view = try #require(try await server.request("GET", "/api/v1/runs/\(run["id"] as! String)").json() as? [String: Any])
        #expect(((view["request"] as? [String: Any])?["facts"] as? [String: String])?["commit"] == sha)
    }

    /// `kill -9` during a run: at the next start the interrupted run is marked and retried once,
    /// the queued one runs, and nothing succeeds twice.
    @Test func aKilledServerResumesItsQueueAndRetriesInterruptedRunsOnce() async throws {
        let server = try await ServeHarness.start(["--concurrency", "1"])
        try await createTask(#"return task { name = "nap", pipeline = function(run) return { sleep { id = "nap", duration = "2s" } } end }"#, values: [:], on: server)
        _ = try await slipway.run(["task", "run", "nap", "--server", server.url])
        _ = try await slipway.run(["task", "run", "nap", "--server", server.url])
        try await server.wait("the first run to start") { try await server.runs(task: "nap").contains { $0["status"] as? String == "running" } }
        await server.stop(signal: SIGKILL)
        try await server.launch()
        try await server.wait("the queue to drain") {
            let runs = try await server.runs(task: "nap")
            return runs.count == 3 && runs.allSatisfy { ["succeeded", "interrupted"].contains($0["status"] as? String ?? "") }
        }
        let statuses = try await server.runs(task: "nap").compactMap { $0["status"] as? String }.sorted()
        #expect(statuses == ["interrupted", "succeeded", "succeeded"])
        #expect(server.log.contains("was interrupted by a server stop; retrying it as"))
        // SIGTERM: a running run is canceled and recorded as such before the server exits.
        _ = try await slipway.run(["task", "run", "nap", "--server", server.url])
        try await server.wait("a run to start") { try await server.runs(task: "nap").contains { $0["status"] as? String == "running" } }
        #expect(await server.stop() == 0)
        let statusesAfter = try await SQLiteStore.inStateDirectory(server.state).runs(RunQuery(task: "nap")).map(\.status)
        #expect(statusesAfter.filter { $0 == .canceled }.count == 1, "\(statusesAfter)")
    }
}
