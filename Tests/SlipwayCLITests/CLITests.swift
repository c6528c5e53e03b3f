import Foundation
import SlipwayKernel
import SlipwayStore
import SlipwayTesting
import Testing

/// The `slipway` command as a user runs it: results on stdout, logs on stderr, exit 0/64/1.
struct CLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let slipway = CommandRunner.slipway()

    func fixture(_ name: String) -> String { Self.root.appendingPathComponent("Tests/Fixtures/Recipes/\(name)").path }

    func recipe(_ text: String) throws -> String { try Scratch.recipe(text) }

    @Test func runPrintsResultsOnStdoutAndLogsOnStderr() async throws {
        let file = try recipe(
            """
            local hello = echo { message = "hello " .. values.who }
            return pipeline { name = "greet", steps = { echo { message = "done", after = { hello } } } }
            """)
        let result = try await slipway.run(["run", file, "--set", "who=operator"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("succeeded"))
        #expect(result.stdout.contains("echo-1"))
        #expect(!result.stdout.contains("hello operator"))
        #expect(result.stderr.contains("[echo-1] hello operator"))
    }

    /// `--progress json`: every stderr line is one event of the documented schema, numbered
    /// from 1 without gaps, from run.queued to run.finished; the results stay on stdout.
    @Test func progressJSONIsOneEventPerLine() async throws {
        let file = try recipe(
            """
            print("evaluated")
            local hello = echo { message = "hello " .. values.who }
            return pipeline { name = "greet", steps = { fail { message = "nope", after = { hello } } } }
            """)
        let result = try await slipway.run(["run", file, "--set", "who=operator", "--progress", "json"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("fail-1"))
        let lines = result.stderr.split(separator: "\n").map(String.init)
        var events: [[String: Any]] = []
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            events.append(try #require(object, "not a JSON object: \(line)"))
        }
        #expect(events.allSatisfy { $0["schema"] as? String == "slipway.run-event.v1" })
        #expect(events.compactMap { $0["sequence"] as? Int } == Array(1...events.count))
        #expect(Set(events.compactMap { $0["run"] as? String }).count == 1)
        let kinds = events.compactMap { $0["kind"] as? String }
        #expect(kinds.first == "run.queued" && kinds.last == "run.finished", "\(kinds)")
        #expect(events.contains { $0["kind"] as? String == "log" && $0["text"] as? String == "evaluated" })
        #expect(events.contains { $0["kind"] as? String == "log" && $0["step"] as? String == "echo-1" && $0["text"] as? String == "hello operator" })
        let failed = try #require(events.first { $0["kind"] as? String == "step.finished" && $0["step"] as? String == "fail-1" })
        #expect(failed["status"] as? String == "failed")
        #expect(events.last?["status"] as? String == "failed")
        let time = try #require(events.first?["time"] as? String)
        #expect(time.hasSuffix("Z") && time.contains("."), "\(time)")
    }

    @Test func failedRunExitsOne() async throws {
        let file = try recipe(#"return pipeline { steps = { fail { message = "nope" } } }"#)
        let result = try await slipway.run(["run", file])
        #expect(result.status == 1)
        #expect(result.stdout.contains("fail-1"))
        #expect(result.stdout.contains("nope"))
    }

    @Test(arguments: ["syntax_error.lua", "unknown_key.lua", "cycle.lua", "uses_os_execute.lua", "infinite_loop.lua", "memory_hog.lua"])
    func invalidRecipesExitSixtyFourNamingTheFile(name: String) async throws {
        let result = try await slipway.run(["plan", fixture(name)])
        #expect(result.status == 64)
        #expect(result.stderr.contains(name))
        #expect(result.stdout.isEmpty)
    }

    @Test func usageErrorsExitSixtyFour() async throws {
        #expect(try await slipway.run(["run"]).status == 64)
        #expect(try await slipway.run(["run", "/nonexistent/recipe.lua"]).status == 64)
        #expect(try await slipway.run(["run", fixture("cycle.lua"), "--set", "novalue"]).status == 64)
    }

    @Test func planShowsStagesJSONAndDot() async throws {
        let file = try recipe(
            """
            local a = echo { id = "a", message = "a" }
            local b = sleep { id = "b", duration = "1s", after = { a }, retries = 2 }
            local c = echo { id = "c", message = "c", after = { a } }
            return pipeline { name = "shape", steps = { b, c } }
            """)
        let text = try await slipway.run(["plan", file])
        #expect(text.status == 0)
        #expect(text.stdout.contains("pipeline 'shape': 3 step(s) in 2 stage(s)"))
        #expect(text.stdout.contains("retries 2"))
        let json = try await slipway.run(["plan", "--json", file])
        let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(decoded?["serializationVersion"] as? Int == 1)
        let dot = try await slipway.run(["plan", "--dot", file])
        #expect(dot.stdout.contains(#""a" -> "b";"#))
    }

    @Test func valuesFilesAndSetMerge() async throws {
        let file = try recipe(#"return pipeline { name = values.app.name .. "-" .. values.app.tier, steps = {} }"#)
        let yaml = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("values.yaml")
        try "app:\n  name: shop\n  tier: dev\n".write(to: yaml, atomically: false, encoding: .utf8)
        let result = try await slipway.run(["plan", file, "--values", yaml.path, "--set", "app.tier=prod"])
        #expect(result.stdout.contains("pipeline 'shop-prod'"))
    }

    @Test func secretsComeFromTheEnvironmentAndAreMasked() async throws {
        let file = try recipe(#"return pipeline { steps = { echo { message = "token is " .. "abc-123-secret", secrets = { "token" } } } }"#)
        let result = try await slipway.run(["run", file, "--secret", "token=SLIPWAY_TEST_TOKEN"], environment: ["SLIPWAY_TEST_TOKEN": "abc-123-secret"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("token is ***"))
        #expect(!result.stderr.contains("abc-123-secret"))
        let missing = try await slipway.run(["run", file])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("secret 'token' was not given to the run"))
    }

    /// `--secret id=NAME,src=FILE` and `id=NAME,env=VAR` give a secret from a file or the
    /// environment; a malformed one is refused saying the three forms.
    @Test func secretsComeFromFilesToo() async throws {
        let file = try recipe(#"return pipeline { steps = { echo { message = "a " .. "from-file-42" .. " b " .. "from-env-7", secrets = { "f", "e" } } } }"#)
        let secretFile = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("token.txt")
        try "from-file-42\n".write(to: secretFile, atomically: false, encoding: .utf8)
        let result = try await slipway.run(
            ["run", file, "--secret", "id=f,src=\(secretFile.path)", "--secret", "id=e,env=SLIPWAY_TEST_E"], environment: ["SLIPWAY_TEST_E": "from-env-7"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("a *** b ***"), "\(result.stderr)")
        let bad = try await slipway.run(["run", file, "--secret", "id=f,src=/x,env=Y"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("expected NAME=ENV_VAR, id=NAME,env=ENV_VAR or id=NAME,src=FILE"), "\(bad.stderr)")
    }

    /// The run variables reach recipes: run.registry from --registry, the date in ACR's format,
    /// the platform, and the shared volume's name.
    @Test func runVariablesReachTheRecipe() async throws {
        let file = try recipe(
            #"return pipeline { name = run.registry .. "|" .. run.registry_name .. "|" .. run.os .. "|" .. run.architecture .. "|" .. run.shared_volume .. "|" .. run.date, steps = {} }"#)
        let result = try await slipway.run(["plan", file, "--registry", "myregistry.example.com:5000"])
        #expect(result.status == 0, "\(result.stderr)")
        let name = result.stdout.split(separator: "'").dropFirst().first.map(String.init) ?? ""
        let parts = name.split(separator: "|").map(String.init)
        #expect(parts.prefix(5) == ["myregistry.example.com:5000", "myregistry", "linux", "amd64", "workspace"] || parts[3] == "arm64", "\(name)")
        #expect(parts.last?.range(of: #"^\d{8}-\d{6}z$"#, options: .regularExpression) != nil, "\(name)")
    }

    /// Started in a Git work tree, a run's commit and branch are those checked out there, as
    /// acb takes them from the source; elsewhere they are not set.
    @Test func runCommitAndBranchComeFromTheWorkTree() async throws {
        let folder = try Scratch.directory("worktree")
        for arguments in [["init", "-q", "-b", "feature"], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "x"]] {
            try await Shell.run("git", arguments, in: folder)
        }
        let head = try await Shell.run("git", ["rev-parse", "HEAD"], in: folder).trimmingCharacters(in: .whitespacesAndNewlines)
        let file = try recipe(#"return pipeline { name = (run.commit or "none") .. "@" .. (run.branch or "none"), steps = {} }"#)
        let inside = try await slipway.run(["plan", file], in: folder)
        #expect(inside.stdout.hasPrefix("pipeline '\(head)@feature'"), "\(inside.stdout)\(inside.stderr)")
        let outside = try await slipway.run(["plan", file], in: Scratch.directory("not-git"))
        #expect(outside.stdout.hasPrefix("pipeline 'none@none'"), "\(outside.stdout)\(outside.stderr)")
    }

    /// `slipway run` records the run — steps and masked events — in the state directory's store.
    @Test func runsAreRecordedInTheStateStore() async throws {
        let state = Scratch.location("history-state")
        let file = try recipe(#"return pipeline { steps = { echo { id = "say", message = "token is " .. "abc-123-secret", secrets = { "token" } } } }"#)
        let result = try await slipway.run(
            ["run", file, "--secret", "token=SLIPWAY_TEST_TOKEN", "--state-dir", state.path], environment: ["SLIPWAY_TEST_TOKEN": "abc-123-secret"])
        #expect(result.status == 0, "\(result.stderr)")
        let id = try #require(result.stdout.split(separator: " ").dropFirst().first.map(String.init))
        let store = try SQLiteStore.inStateDirectory(state)
        #expect(try await store.run(id)?.status == .succeeded)
        #expect(try await store.steps(ofRun: id).map(\.step.rawValue) == ["say"])
        #expect(try await store.events(ofRun: id, after: 0).contains { $0.text == "token is ***" })
        let database = try Data(contentsOf: state.appendingPathComponent("slipway.sqlite"))
        #expect(database.range(of: Data("abc-123-secret".utf8)) == nil)
    }

    /// A run's builds keep the dependency graph: the image a task built and the base it was
    /// built on, which base-image triggers will read.
    @Test func buildsRecordTheImageDependencyGraph() async throws {
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let state = Scratch.location("graph-state")
        let base = "\(registry.address)/graph/base:1"
        let baseContext = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY b /b\n", "b": "base"])
        let pushed = try await slipway.run(["build", "-t", base, baseContext.path, "--state-dir", state.path])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let app = try Scratch.files(["Dockerfile": "ARG BASE\nFROM ${BASE}\nCOPY a /a\n", "a": "app"])
        let file = try recipe(
            #"return pipeline { name = "app", steps = { build { id = "image", context = values.app, build_args = { BASE = values.base }, tags = { "local/app:1" } } } }"#)
        let built = try await slipway.run(["run", file, "--set", "app=\(app.path)", "--set", "base=\(base)", "--state-dir", state.path])
        #expect(built.status == 0, "\(built.stderr)")
        let store = try SQLiteStore.inStateDirectory(state)
        let image = try #require(try await store.latestImage(ofTask: "app"))
        #expect(image.reference?.hasSuffix("local/app:1") == true && image.platform.hasPrefix("linux/"), "\(image)")
        let runtime = try #require(image.runtimeBase)
        #expect(runtime.reference.contains("graph/base:1") && runtime.digest.hasPrefix("sha256:"), "\(runtime)")
        #expect(try await store.dependents(ofBase: runtime.reference, scope: .runtime).map(\.task) == ["app"])
    }

    /// An acr-task.yaml runs without a Lua library path: --lib is refused, not dropped.
    @Test func libIsRefusedForTaskFiles() async throws {
        let folder = try Scratch.files(["task.yaml": "steps:\n  - cmd: busybox echo hi\n"])
        let result = try await slipway.run(["plan", folder.appendingPathComponent("task.yaml").path, "--lib", "Recipes/lib"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--lib: ") && result.stderr.contains("--lib is for Lua recipes"), "\(result.stderr)")
    }

    @Test func interruptCancelsTheRun() async throws {
        let file = try recipe(#"return pipeline { steps = { sleep { duration = "60s" } } }"#)
        let result = try await slipway.run(["run", file], interruptWhenStderrContains: "started (sleep)")
        #expect(result.status == 1)
        #expect(result.stdout.contains("canceled"))
        #expect(result.stderr.contains("cancelling"))
    }

    @Test func everyCommandHasHelp() async throws {
        for command in [[], ["run"], ["plan"], ["plugins"], ["version"], ["digest"], ["image"], ["image", "pull"], ["image", "push"],
            ["image", "copy"], ["image", "ls"], ["image", "inspect"], ["image", "tag"], ["image", "rm"], ["image", "gc"]] {
            let result = try await slipway.run(command + ["--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("USAGE"))
        }
        #expect(try await slipway.run(["version"]).stdout.hasPrefix("slipway "))
    }
}
