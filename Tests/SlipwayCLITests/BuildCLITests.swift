import Foundation
import SlipwayOCI
import SlipwayTesting
import Testing

@Suite(.serialized)
struct BuildCLITests {
    let slipway = CommandRunner.slipway()

    /// Reproducible and incremental at once: a build in a fresh state gives the same digest every
    /// time, and a rebuild after one file changed, which copies every other chunk from the
    /// earlier layer, gives exactly the digest a cold build of the changed files gives.
    @Test func anIncrementalBuildIsTheColdBuild() async throws {
        let registry = try await RegistryHarness.start()
        var files = ["Dockerfile": "FROM scratch\nCOPY files/ /app/\n"]
        for index in 0..<30 { files["files/f\(index).txt"] = String(repeating: "line \(index) of a file that fills some chunks\n", count: 4_000 + index * 500) }
        let context = try Scratch.files(files)
        let reference = "\(registry.address)/web/chunks:1"
        func build(_ state: URL, _ flags: [String] = []) async throws -> CommandRunner.Result {
            let result = try await slipway.run(["build", "-t", reference] + flags + [context.path], environment: ["SLIPWAY_STATE_DIR": state.path])
            #expect(result.status == 0, "\(result.stderr)")
            return result
        }
        let warm = Scratch.location("warm")
        let first = try await build(warm)
        #expect(try await build(Scratch.location("cold-a")).stdout == first.stdout)

        try Data("changed\n".utf8).write(to: context.appendingPathComponent("files/f17.txt"))
        let incremental = try await build(warm)
        #expect(incremental.stdout != first.stdout)
        #expect(incremental.stderr.contains("compressed chunks reused"), "\(incremental.stderr)")
        let cold = try await build(Scratch.location("cold-b"), ["--no-cache"])
        #expect(!cold.stderr.contains("compressed chunks reused"))
        #expect(cold.stdout == incremental.stdout)
    }

    /// A registry that will not open an upload session while layers are written costs one
    /// refusal, said once in the log; the push then uploads the layers.
    @Test func aRefusedStreamedUploadIsLeftToThePush() async throws {
        let registry = try await RegistryHarness.start()
        let proxy = try await FaultProxy.start(
            upstream: registry.address, rules: [.init(method: "POST", uriContains: "/blobs/uploads/", fault: .status(503, retryAfter: nil))])
        defer { proxy.stop() }
        let context = try Scratch.files([
            "Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\n", "a.txt": "a\n", "b.txt": "b\n",
        ])
        let built = try await slipway.run(["build", "-t", "\(proxy.address)/web/refused:1", context.path], environment: ["SLIPWAY_STATE_DIR": Scratch.location("refused").path])
        #expect(built.status == 0, "\(built.stderr)")
        #expect(built.stderr.components(separatedBy: "could not open an upload in \(proxy.address)/web/refused; layers are left to the push").count == 2, "\(built.stderr)")
        #expect(built.stderr.contains("uploaded 3, mounted 0, already there 0"), "\(built.stderr)")
    }

    @Test func buildPushesAndARebuildPushesNothing() async throws {
        try Prerequisites.require(["skopeo"])
        let registry = try await RegistryHarness.start()
        let context = try Scratch.files([
            "Dockerfile": "FROM scratch\nCOPY site/ /srv/site/\nCMD [\"/srv/site/index.html\"]\n",
            "site/index.html": "<h1>hello</h1>\n",
        ])
        let reference = "\(registry.address)/web/site:1"
        let env = ["SLIPWAY_STATE_DIR": Scratch.location("build-state").path]
        let first = try await slipway.run(["build", "-t", reference, context.path], environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        // The layer was uploaded while it was written (stream_layers): the push sends the config.
        #expect(first.stderr.contains("uploaded 1, mounted 0, already there 1"), "\(first.stderr)")
        let raw = try await Shell.run("skopeo", ["inspect", "--tls-verify=false", "--raw", "docker://\(reference)"])
        #expect("\(Digest.sha256(of: Data(raw.utf8)))\n" == first.stdout)

        // Nothing changed: same digest, nothing uploaded (also from a fresh state directory, where
        // the layer is made again; --no-stream-layers leaves it to the push, which finds it there).
        let again = try await slipway.run(["build", "-t", reference, "--no-stream-layers", context.path], environment: ["SLIPWAY_STATE_DIR": Scratch.location("build-state").path])
        #expect(again.stdout == first.stdout)
        #expect(again.stderr.contains("uploaded 0, mounted 0, already there 2"))

        // In the first state directory the layer comes from the instruction cache: no layer work.
        let cached = try await slipway.run(["build", "-t", reference, context.path], environment: env)
        #expect(cached.stdout == first.stdout)
        #expect(cached.stderr.contains("Dockerfile:2 COPY: cached (layer "), "\(cached.stderr)")
        #expect(cached.stderr.contains("uploaded 0, mounted 0, already there 2"))
    }

    @Test func buildsFromAGitContextAndRecordsTheCommit() async throws {
        let server = try await GitServer.start()
        defer { server.stop() }
        let shas = try await server.createRepository("site", commits: [
            (branch: "main", files: ["web/Dockerfile": "FROM scratch\nCOPY index.html /srv/\n", "web/index.html": "<h1>from git</h1>\n"]),
        ])
        let env = ["SLIPWAY_STATE_DIR": Scratch.location("build-state").path]
        let build = try await slipway.run(["build", "--no-push", "--json", "-t", "local/git:1", server.gitURL("site") + "#main:web"], environment: env)
        #expect(build.status == 0, "\(build.stderr)")
        #expect(build.stdout.contains("\"commit\" : \"\(shas[0])\""), "\(build.stdout)")
        #expect(build.stdout.contains("\"subdir\" : \"web\""))
        #expect(build.stderr.contains("fetching context git://"))

        let hostile = try await slipway.run(["build", "--no-push", server.gitURL("site") + "#--upload-pack=touch /tmp/slipway-cli-pwned"], environment: env)
        #expect(hostile.status == 64)
        #expect(hostile.stderr.contains("refusing the Git ref '--upload-pack=touch /tmp/slipway-cli-pwned'"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/slipway-cli-pwned"))
    }

    /// buildx's `--label`, `--iidfile` and `--build-context` (a folder, a Git repository and an
    /// image standing in for names the Dockerfile uses).
    @Test func labelsIidfileAndNamedContexts() async throws {
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let source = try Scratch.store()
        let tools = try OCITestImages.write(into: source, files: ["usr/bin/tool": "tool\n"])
        let toolsReference = "\(registry.address)/tools/kit:1"
        _ = try await RegistryClient().push(tools.manifest, from: source, to: try ImageReference(parsing: toolsReference))
        let server = try await GitServer.start()
        defer { server.stop() }
        try await server.createRepository("docs", commits: [(branch: "main", files: ["guide.md": "# guide\n"])])
        let assets = try Scratch.files(["logo.svg": "<svg/>\n"], label: "named-assets")
        let context = try Scratch.files(["Dockerfile": """
            FROM assets AS files
            FROM scratch
            LABEL team=web version=dockerfile
            COPY --from=files /logo.svg /srv/logo.svg
            COPY --from=docs /guide.md /srv/guide.md
            COPY --from=kit /usr/bin/tool /bin/tool
            """])
        let iid = Scratch.location("iidfile")
        let env = ["SLIPWAY_STATE_DIR": Scratch.location("build-state").path]
        let build = try await slipway.run([
            "build", "--no-push", "--json", "--label", "version=1.2", "--label", "tier=gold", "--iidfile", iid.path,
            "--build-context", "assets=\(assets.path)", "--build-context", "docs=\(server.gitURL("docs"))#main",
            "--build-context", "kit=docker-image://\(toolsReference)", "-t", "local/named:1", context.path,
        ], environment: env)
        #expect(build.status == 0, "\(build.stderr)")
        #expect(build.stdout.contains("\"reference\" : \"\(toolsReference)\""), "\(build.stdout)")  // recorded as a build-time base

        let store = try ContentStore(root: URL(fileURLWithPath: env["SLIPWAY_STATE_DIR"]! + "/oci"))
        let manifest = try store.manifest(try #require(try store.resolve(ImageReference(parsing: "local/named:1").description)).digest)
        #expect(try String(contentsOf: iid, encoding: .utf8) == manifest.config.digest.description)
        #expect(try store.config(of: manifest).config?.labels == ["team": "web", "version": "1.2", "tier": "gold"])
        let root = Scratch.location("named-root")
        for layer in manifest.layers { try LayerExtractor().extract(store.blobURL(layer.digest), into: root) }
        for (path, text) in [("srv/logo.svg", "<svg/>\n"), ("srv/guide.md", "# guide\n"), ("bin/tool", "tool\n")] {
            #expect(try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) == text, "\(path)")
        }

        for (arguments, message) in [
            (["--build-context", "files=\(assets.path)"], "has the name of this stage"),
            (["--build-context", "x=oci-layout:///tmp/layout"], "oci-layout:// contexts are not supported"),
            (["--build-context", "nothing"], "expected name=folder"),
            (["--builder", "buildah", "--build-context", "assets=\(assets.path)"], "--build-context is not honoured by --builder buildah"),
            (["--stream-layers"], "--stream-layers uploads layers for the push: drop --no-push"),
        ] {
            let refused = try await slipway.run(["build", "--no-push"] + arguments + [context.path], environment: env)
            #expect(refused.status == 64, "\(arguments): \(refused.stderr)")
            #expect(refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
        }
        let buildah = try await slipway.run(["build", "-t", "127.0.0.1:9/x:1", "--builder", "buildah", "--stream-layers", context.path], environment: env)
        #expect(buildah.status == 64 && buildah.stderr.contains("--stream-layers is not honoured by --builder buildah"), "\(buildah.stderr)")
    }

    /// A recipe names a Git context with `git { url = …, ref = SHA }`: that commit is built while
    /// the branch has moved on; a hostile ref is refused with the recipe's file:line.
    @Test func recipesBuildTheGitCommitTheyName() async throws {
        let server = try await GitServer.start()
        defer { server.stop() }
        let shas = try await server.createRepository("pinned", commits: [
            (branch: "main", files: ["Dockerfile": "FROM scratch\nCOPY version.txt /version.txt\n", "version.txt": "first\n"]),
            (branch: "main", files: ["Dockerfile": "FROM scratch\nCOPY version.txt /version.txt\n", "version.txt": "moved on\n"]),
        ])
        let state = Scratch.location("build-state")
        let recipe = try Scratch.recipe("""
            return pipeline { name = "pinned", steps = {
              build { context = git { url = "\(server.gitURL("pinned"))", ref = "\(shas[0])" }, tags = { "local/pinned:1" } },
            } }
            """)
        let run = try await slipway.run(["run", recipe, "--state-dir", state.path, "--progress", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("\"commit\":\"\(shas[0])\""), "\(run.stderr)")  // the step's outputs
        let store = try ContentStore(root: state.appendingPathComponent("oci"))
        let manifest = try store.manifest(try #require(try store.resolve(ImageReference(parsing: "local/pinned:1").description)).digest)
        let root = Scratch.location("pinned-root")
        for layer in manifest.layers { try LayerExtractor().extract(store.blobURL(layer.digest), into: root) }
        #expect(try String(contentsOf: root.appendingPathComponent("version.txt"), encoding: .utf8) == "first\n")

        let hostile = try Scratch.recipe("""
            local source = git { url = "\(server.gitURL("pinned"))", ref = "--upload-pack=touch /tmp/slipway-recipe-pwned" }
            return pipeline { name = "x", steps = { build { context = source } } }
            """)
        let refused = try await slipway.run(["plan", hostile])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains(":1: git: ref: refusing the Git ref '--upload-pack=touch /tmp/slipway-recipe-pwned'"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/slipway-recipe-pwned"))
    }

    /// A quick build is a run like any other: with --progress json every stderr line is an
    /// event, the build and push are steps, and the build step's outputs carry the digest
    /// printed on stdout and the whole build report.
    @Test func aQuickBuildIsARunWithEvents() async throws {
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "a\n"])
        let env = ["SLIPWAY_STATE_DIR": Scratch.location("build-state").path]
        let build = try await slipway.run(["build", "--progress", "json", "-t", "\(registry.address)/quick/app:1", context.path], environment: env)
        #expect(build.status == 0, "\(build.stderr)")
        var events: [[String: Any]] = []
        for line in build.stderr.split(separator: "\n") {
            events.append(try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not an event: \(line)"))
        }
        #expect(events.compactMap { $0["sequence"] as? Int } == Array(1...events.count))
        #expect(events.first?["kind"] as? String == "run.queued" && events.first?["pipeline"] as? String == "build")
        let finished = events.filter { $0["kind"] as? String == "step.finished" }
        #expect(finished.compactMap { $0["step"] as? String } == ["build", "push"])
        let outputs = try #require(finished.first?["outputs"] as? [String: Any])
        #expect(outputs["digest"] as? String == build.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect((outputs["report"] as? [String: Any])?["layers"] != nil)
        #expect(events.contains { $0["kind"] as? String == "log" && ($0["text"] as? String)?.contains("uploaded 1, mounted 0, already there 1") == true })
        // Each blob the push sends is a progress entry of the push step, ending complete.
        let pushed = events.filter { $0["kind"] as? String == "progress" && $0["step"] as? String == "push" }
        #expect(pushed.contains { ($0["label"] as? String)?.hasPrefix("push ") == true && $0["completed"] as? Int == $0["total"] as? Int }, "\(pushed)")
        // So is writing the COPY's layer, in content bytes (the 2 of a.txt).
        #expect(events.contains { $0["kind"] as? String == "progress" && $0["label"] as? String == "layer Dockerfile:2 COPY" && $0["completed"] as? Int == 2 && $0["total"] as? Int == 2 })
    }

    /// `--progress auto` draws the live view on a terminal (here a pseudo-terminal made by
    /// `script`) and plain lines through a pipe; `tty` insists on the view.
    @Test func progressAutoIsALiveViewOnATerminalAndPlainOtherwise() async throws {
        try Prerequisites.require(["script"])
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "a\n"])
        let env = ["SLIPWAY_STATE_DIR": Scratch.location("build-state").path, "TERM": "xterm"]
        let command = [slipway.executable.path, "build", "--no-push", "--progress", "auto", context.path].map { "'\($0)'" }.joined(separator: " ")
        let terminal = try await CommandRunner(executable: URL(fileURLWithPath: "/usr/bin/script"))
            .run(["-qefc", command, "/dev/null"], environment: env)
        #expect(terminal.status == 0, "\(terminal.stdout)")
        // script merges the streams: the view's lines and the digest on stdout.
        #expect(terminal.stdout.contains("✔ [build] build"), "\(terminal.stdout)")
        #expect(terminal.stdout.contains("run succeeded"), "\(terminal.stdout)")
        #expect(!terminal.stdout.contains("started (build)"), "\(terminal.stdout)")

        let piped = try await slipway.run(["build", "--no-push", "--progress", "auto", context.path], environment: env)
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stderr.contains("[build] started (build)") && !piped.stderr.contains("\u{1B}["), "\(piped.stderr)")
        let forced = try await slipway.run(["build", "--no-push", "--progress", "tty", context.path], environment: env)
        #expect(forced.stderr.contains("✔ [build] build"), "\(forced.stderr)")
    }

    @Test func badDockerfileExitsSixtyFourWithFileAndLine() async throws {
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY\n"])
        let result = try await slipway.run(["build", "--no-push", context.path], environment: ["SLIPWAY_STATE_DIR": Scratch.location("build-state").path])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Dockerfile:2: COPY: requires arguments"))
    }

    @Test func zstdCompressionOnRequest() async throws {
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "a\n"])
        let env = ["SLIPWAY_STATE_DIR": Scratch.location("build-state").path]
        let build = try await slipway.run(["build", "--no-push", "--compression", "zstd", "-t", "local/zstd:1", context.path], environment: env)
        #expect(build.status == 0, "\(build.stderr)")
        let inspect = try await slipway.run(["image", "inspect", "local/zstd:1"], environment: env)
        #expect(inspect.stdout.contains(MediaType.ociLayerZstd))
    }

    @Test func secretBuildArgumentsComeFromTheEnvironmentAndStayOutOfTheOutput() async throws {
        try Prerequisites.require(["runc"])
        let context = try BusyboxImage.context()
        let env = ["SLIPWAY_STATE_DIR": Scratch.location("build-state").path, "DEPLOY_TOKEN": "tok-123-secret"]
        let base = try await slipway.run(["build", "--no-push", "-t", "localhost/busybox:secret", context.path], environment: env)
        #expect(base.status == 0, "\(base.stderr)")
        let app = try Scratch.files(["Dockerfile": "FROM localhost/busybox:secret\nARG DEPLOY_TOKEN\nRUN echo \"deploying with $DEPLOY_TOKEN\"\n"])
        let build = try await slipway.run(["build", "--no-push", "--json", "--secret-build-arg", "DEPLOY_TOKEN", app.path], environment: env)
        #expect(build.status == 0, "\(build.stderr)")
        #expect(build.stderr.contains("deploying with ***"), "\(build.stderr)")
        #expect(!(build.stdout + build.stderr).contains("tok-123-secret"))

        let missing = try await slipway.run(["build", "--no-push", "--secret-build-arg", "NOT_SET_ANYWHERE", app.path], environment: env)
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("--secret-build-arg NOT_SET_ANYWHERE: expected key=value, or the name of a set environment variable"))
    }

    /// `--secret id=…,src=FILE` and `--secret id=…,env=VAR` reach RUN --mount=type=secret;
    /// the value shows in no output.
    @Test func secretsFromFilesAndVariablesReachRunMounts() async throws {
        try Prerequisites.require(["runc"])
        let context = try BusyboxImage.context()
        let env = ["SLIPWAY_STATE_DIR": Scratch.location("secret-state").path, "API_KEY": "key-from-the-env-42"]
        let base = try await slipway.run(["build", "--no-push", "-t", "localhost/busybox:secret", context.path], environment: env)
        #expect(base.status == 0, "\(base.stderr)")
        let app = try Scratch.files([
            "Dockerfile": """
                FROM localhost/busybox:secret
                RUN --mount=type=secret,id=file echo "file $(cat /run/secrets/file)"
                RUN --mount=type=secret,id=key,env=KEY,required=true sh -c 'echo "env $KEY"'

                """,
            "token.txt": "token-from-a-file-17\n",
        ])
        let build = try await slipway.run(
            ["build", "--no-push", "--secret", "id=file,src=\(app.path)/token.txt", "--secret", "id=key,env=API_KEY", app.path], environment: env)
        #expect(build.status == 0, "\(build.stderr)")
        #expect(build.stderr.contains("file ***"), "\(build.stderr)")
        #expect(build.stderr.contains("env ***"), "\(build.stderr)")
        #expect(!(build.stdout + build.stderr).contains("token-from-a-file-17") && !(build.stdout + build.stderr).contains("key-from-the-env-42"))

        for (arguments, message) in [
            (["--secret", "id=x,src=/no/such/file"], "--secret id=x,src=/no/such/file: cannot read /no/such/file"),
            (["--secret", "src=/etc/hostname"], "needs id="),
            (["--secret", "id=x,env=UNSET_VARIABLE_9"], "the variable UNSET_VARIABLE_9 is not set"),
            (["--secret", "id=x,colour=red"], "unknown field 'colour'"),
        ] {
            let refused = try await slipway.run(["build", "--no-push"] + arguments + [app.path], environment: env)
            #expect(refused.status == 64, "\(arguments)")
            #expect(refused.stderr.contains(message), "\(refused.stderr)")
        }
    }

    @Test func pushWithoutTagIsAUsageError() async throws {
        let result = try await slipway.run(["build", "."])
        #expect(result.status == 64)
        #expect(result.stderr.contains("-t/--tag"))
    }
}
