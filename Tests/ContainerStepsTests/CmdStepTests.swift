import ContainerSteps
import DockerfileBuilder
import Foundation
import RegistryPublisher
import SlipwayEngine
import SlipwayACR
import SlipwayKernel
import SlipwayLua
import SlipwayOCI
import SlipwayRuntime
import SlipwayTesting
import Testing

/// `cmd` containers against real runc, overlayfs and CNI: services on the run network reached
/// by step id, tests that gate a push, secrets, and nothing left behind afterwards. Serialized:
/// the last check looks at the host's bridges, which are host-wide.
@Suite(.serialized) struct CmdStepTests {
    struct Run {
        var report: RunReport
        var log: CapturingObserver
        var state: StateDirectory
        var workDirectory: URL
    }

    /// Evaluates `recipe` (with `values.base` naming a busybox build context) and runs it with a
    /// store, a registry client and a work directory of the test's own.
    func run(_ recipe: String, secrets: [String: String] = [:], values: [String: String] = [:]) async throws -> Run {
        try await run(secrets: secrets, values: values) { registry, info in
            let session = try RecipeSession(file: try Scratch.recipe(recipe), registry: registry, run: info)
            return (try await session.pipeline(for: info).0, [:])
        }
    }

    /// The same for an acr-task.yaml.
    func run(yaml: String, secrets: [String: String] = [:], values: [String: String] = [:]) async throws -> Run {
        try await run(secrets: secrets, values: values) { _, info in
            let task = try ACRTaskFile(text: yaml, file: "task.yaml", run: info, secrets: secrets)
            // Secret volume contents are masked as slipway run masks them.
            let masked = task.maskedValues.enumerated().reduce(into: [String: String]()) { $0["volume-\($1.offset)"] = $1.element }
            return (task.pipeline, masked)
        }
    }

    func run(
        secrets: [String: String], values: [String: String],
        pipeline: (PluginRegistry, RunInfo) async throws -> (PipelineDefinition, [String: String])
    ) async throws -> Run {
        try Prerequisites.requireRoot("cmd steps run containers with runc")
        try Prerequisites.require(["runc", "unshare", "ip", "iptables"])
        var registry = PluginRegistry()
        try registry.register([BuildStep.self, NativeBuilder.self, PushStep.self, CmdStep.self])
        var given = values
        given["base"] = try BusyboxImage.context().path
        let info = RunInfo(id: "cmd-\(UUID().uuidString.prefix(8))", values: .object(given.mapValues { .string($0) }))
        let (definition, masked) = try await pipeline(registry, info)
        let store = try Scratch.store()
        var services = HostServices()
        services.contentStore = store
        services.registryClient = RegistryClient()
        let log = CapturingObserver()
        let workDirectory = try Scratch.directory("cmd-work")
        let options = RunOptions(
            secrets: secrets.merging(masked) { given, _ in given }, workDirectory: workDirectory.path, observers: [log], services: services)
        let report = try await PipelineRunner(registry: registry, options: options).run(definition, info: info)
        return Run(report: report, log: log, state: StateDirectory(of: store), workDirectory: workDirectory)
    }

    /// No runc container, bundle, mount, namespace, bridge or veth of the run is left.
    func expectNothingLeft(_ run: Run, sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws {
        try await expectNothingLeft(in: run.state, sourceLocation: sourceLocation)
    }

    func runcContainers(in state: StateDirectory) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: state.run.appendingPathComponent(".runc").path)) ?? []
    }

    func expectNothingLeft(in state: StateDirectory, sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws {
        let containers = runcContainers(in: state)
        #expect(containers.isEmpty, "runc containers left: \(containers)", sourceLocation: sourceLocation)
        let bundles = ((try? FileManager.default.contentsOfDirectory(atPath: state.run.path)) ?? []).filter { $0 != ".runc" }
        #expect(bundles.isEmpty, "bundles left: \(bundles)", sourceLocation: sourceLocation)
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mounts.contains(state.root.path), "mounts left under \(state.root.path)", sourceLocation: sourceLocation)
        #expect(!mounts.contains(RunNetwork.defaultRoot.path + "/slot-"), "network namespaces left mounted", sourceLocation: sourceLocation)
        let links = try await Shell.run("ip", ["-o", "link", "show"])
        let leftovers = links.split(separator: "\n").filter { $0.contains(": slw") || $0.contains("master slw") }
        #expect(leftovers.isEmpty, "links left: \(leftovers)", sourceLocation: sourceLocation)
        // CNI's per-container NAT chains (the shared CNI-HOSTPORT-* ones stay, as for every CNI user).
        let nat = try await Shell.run("iptables", ["-t", "nat", "-S"])
        let chains = nat.split(separator: "\n").filter { $0.hasPrefix("-N CNI-") && !$0.hasPrefix("-N CNI-HOSTPORT-") }
        #expect(chains.isEmpty, "NAT chains left: \(chains)", sourceLocation: sourceLocation)
    }

    @Test func servicesAreReachedByStepIDAndLeaveNothingBehind() async throws {
        let port = try RegistryHarness.freePort()
        let run = try await run(
            """
            local base = build { id = "base", context = values.base }
            local serve = "mkdir -p /srv && echo \\"$GREETING\\" > /srv/index.html && exec httpd -f -p 8080 -h /srv"
            local web = cmd { id = "web", image = base, detach = true, alias = "www", stop_timeout = "1s",
                              env = { GREETING = "hello from web" }, args = { "sh", "-c", serve } }
            local api = cmd { id = "api", image = base, detach = true, after = web, stop_timeout = "1s",
                              env = { GREETING = "hello from api" }, ports = { "\(port):8080" }, args = { "sh", "-c", serve } }
            local wait = "for i in $(seq 100); do wget -q -O /dev/null http://$1:8080/ && exit 0; sleep 0.1; done; exit 1"
            local probe = cmd { id = "probe", image = base, after = api, args = { "sh", "-c",
              "sh -c '" .. wait .. "' - web && sh -c '" .. wait .. "' - api && " ..
              "wget -q -O - http://web:8080/ && wget -q -O - http://www:8080/ && wget -q -O - http://api:8080/ > api.txt && pwd" } }
            local host = cmd { id = "from-host", image = base, after = probe, network = "host",
                               args = { "wget", "-q", "-O", "/workspace/published.txt", "http://127.0.0.1:\(port)/" } }
            return pipeline { name = "services", steps = { base, web, api, probe, host } }
            """)
        #expect(run.report.status == .succeeded, "\(run.report.failure ?? "")\n\(run.log.text)")
        let probe = run.log.lines.filter { $0.step == "probe" }.map(\.text)
        #expect(probe.filter { $0 == "hello from web" }.count == 2, "\(probe)")
        #expect(probe.contains("/workspace"), "the working directory defaults to the shared workspace: \(probe)")
        let workspace = run.workDirectory.appendingPathComponent("workspace")
        #expect(try String(contentsOf: workspace.appendingPathComponent("api.txt"), encoding: .utf8) == "hello from api\n")
        #expect(try String(contentsOf: workspace.appendingPathComponent("published.txt"), encoding: .utf8) == "hello from api\n")
        #expect(run.report.step("web")?.output?.fields["address"] != nil)
        #expect(run.log.lines.contains { $0.step == "web" && $0.text.hasPrefix("service stopped") })
        try await expectNothingLeft(run)
    }

    @Test func aFailingTestStopsThePushAndTheServiceStillStops() async throws {
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let run = try await run(
            """
            local app = build { id = "app", context = values.base, tags = { "\(registry.address)/app:1" } }
            local web = cmd { id = "web", image = app, detach = true, stop_timeout = "1s", args = { "httpd", "-f", "-p", "8080" } }
            local test = cmd { id = "test", image = app, after = web, args = { "sh", "-c", "echo testing; exit 3" } }
            return pipeline { name = "gated", steps = { app, web, test, push { app, after = test } } }
            """)
        #expect(run.report.status == .failed)
        #expect(run.report.failure?.contains("step 'test' failed: the container exited with status 3") == true, "\(run.report.failure ?? "")")
        #expect(run.report.steps.last?.status == .skipped)
        #expect(registry.requestCount(method: "PUT", uriContains: "/manifests/") == 0)
        #expect(run.log.lines.contains { $0.step == "web" && $0.text.hasPrefix("service stopped") })
        try await expectNothingLeft(run)
    }

    /// A secret reaches the container as a file and as an environment variable, and its value
    /// appears in no log line, error or event.
    @Test func secretsReachTheContainerAndNeverTheLog() async throws {
        let secret = "s3cr3t-\(UUID().uuidString.prefix(6))"
        let run = try await run(
            """
            local base = build { id = "base", context = values.base }
            local use = cmd { id = "use", image = base, secrets = { "token" }, secret_env = { TOKEN = "token" }, network = "none",
              args = { "sh", "-c", "cat /run/secrets/token; echo; echo $TOKEN; test \\"$(cat /run/secrets/token)\\" = \\"$TOKEN\\" && echo same" } }
            return pipeline { name = "secrets", steps = { base, use } }
            """, secrets: ["token": secret])
        #expect(run.report.status == .succeeded, "\(run.report.failure ?? "")\n\(run.log.text)")
        let lines = run.log.lines.filter { $0.step == "use" }.map(\.text)
        #expect(lines.contains("same") && lines.filter { $0 == "***" }.count == 2, "\(lines)")
        let events = try run.log.events.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }.joined()
        #expect(!events.contains(secret) && !run.log.text.contains(secret))
        try await expectNothingLeft(run)
    }

    /// A service whose command cannot start fails its step with runc's reason, and leaves nothing.
    @Test func aServiceThatCannotStartFailsItsStep() async throws {
        let run = try await run(
            """
            local base = build { id = "base", context = values.base }
            local web = cmd { id = "web", image = base, detach = true, args = { "/no/such/server" } }
            return pipeline { name = "broken", steps = { base, web } }
            """)
        #expect(run.report.status == .failed)
        let failure = run.report.step("web")?.failure ?? ""
        #expect(failure.contains("the service did not start") && failure.contains("/no/such/server"), "\(failure)")
        try await expectNothingLeft(run)
    }

    /// A cmd step writes a build context into the shared workspace and a build uses it
    /// (`workspace:PATH`); a link a container planted there (`evil -> <host folder>`) resolves
    /// inside the workspace, so the host's files never become a build context.
    @Test func buildContextsFromTheWorkspaceStayInsideIt() async throws {
        let canary = try Canary()
        let run = try await run(
            """
            local base = build { id = "base", context = values.base }
            local write = cmd { id = "write", image = base, network = "none", args = { "sh", "-c",
              "mkdir -p gen && printf 'FROM scratch\\nCOPY made.txt /made.txt\\n' > gen/Dockerfile && echo made > gen/made.txt && " ..
              "ln -s \(canary.folder.path) evil" } }
            local made = build { id = "made", context = "workspace:gen", after = write }
            local evil = build { id = "evil", context = "workspace:evil", after = made }
            return pipeline { name = "workspace", steps = { made, evil } }
            """)
        #expect(run.report.step("made")?.status == .succeeded, "\(run.log.text)")
        let failure = run.report.step("evil")?.failure ?? ""
        #expect(failure.contains("workspace:evil: no such folder in the run's workspace"), "\(failure)")
        #expect(canary.isUntouched)
        #expect(try await !Canary.token(canary.token, appearsUnder: run.state.root))
        try await expectNothingLeft(run)
    }

    /// A cmd container gets the build default capability set unless it asks for `privileged`,
    /// which gives every capability (CAP_SYS_ADMIN among them).
    @Test func privilegedIsOffUnlessAskedFor() async throws {
        let run = try await run(
            """
            local base = build { id = "base", context = values.base }
            local plain = cmd { id = "plain", image = base, network = "none", args = { "grep", "CapEff", "/proc/self/status" } }
            local full = cmd { id = "full", image = base, network = "none", privileged = true, args = { "grep", "CapEff", "/proc/self/status" } }
            return pipeline { name = "caps", steps = { plain, full } }
            """)
        #expect(run.report.status == .succeeded, "\(run.log.text)")
        func capabilities(_ step: String) -> UInt64? {
            run.log.lines.first { $0.step == StepID(step) && $0.text.hasPrefix("CapEff:") }
                .flatMap { UInt64($0.text.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16) }
        }
        let sysAdmin: UInt64 = 1 << 21
        let plain = try #require(capabilities("plain"))
        let full = try #require(capabilities("full"))
        #expect(plain & sysAdmin == 0 && full & sysAdmin != 0, "plain \(String(plain, radix: 16)), privileged \(String(full, radix: 16))")
        try await expectNothingLeft(run)
    }

    @Test func badConfigurationsAreRefusedWithTheirLine() async throws {
        var registry = PluginRegistry()
        try registry.register([CmdStep.self])
        let cases: [(String, String)] = [
            ("cmd { image = \"busybox\", ports = { \"0.0.0.0:80:80\" } }", "ports[1]: port '0.0.0.0:80:80': ports are published on the host's loopback only"),
            ("cmd { image = \"busybox\", network = \"bridge\" }", "network: expected one of run, host, none, got 'bridge'"),
            ("cmd { image = \"busybox\", network = \"host\", alias = \"db\" }", "alias: aliases are names on the run network"),
            ("cmd { image = \"busybox\", network = \"none\", ports = { \"8080:80\" } }", "ports: ports are published from the run network"),
            ("cmd { image = 42 }", "image: expected an image reference or a build step, got"),
            ("cmd { image = \"busybox\", workdir = \"rel\" }", "workdir: must be an absolute path"),
            ("cmd { image = \"busybox\", volumes = { [\"/data\"] = \"../x\" } }", "is not a volume name"),
            ("cmd { image = \"busybox\", stop_timeout = \"soon\" }", "stop_timeout"),
            ("cmd { image = \"busybox\", tty = true }", "unknown key 'tty'"),
        ]
        for (step, expected) in cases {
            let file = try Scratch.recipe("local x = 1\nreturn pipeline { name = \"bad\", steps = { \(step) } }\n")
            let error = await #expect(throws: (any Error).self) {
                let session = try RecipeSession(file: file, registry: registry, run: RunInfo(id: "bad"))
                let (pipeline, _) = try await session.pipeline(for: RunInfo(id: "bad"))
                _ = try await PipelineRunner(registry: registry).run(pipeline, info: RunInfo(id: "bad"))
            }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("recipe.lua:2") && text.contains(expected), "\(step): \(text)")
        }
    }

    /// Ctrl-C stops the run's containers (the service after its stop timeout) and removes them;
    /// after `kill -9` the containers and the network stay, and the next `slipway` start removes
    /// them.
    @Test(arguments: [SIGINT, SIGKILL]) func anInterruptedOrKilledRunLeavesNothingBehind(signal: Int32) async throws {
        try Prerequisites.requireRoot("cmd steps run containers with runc")
        let state = StateDirectory(try Scratch.directory("cli-state"))
        let environment = ["SLIPWAY_STATE_DIR": state.root.path]
        let file = try Scratch.recipe(
            """
            local base = build { id = "base", context = values.base }
            local web = cmd { id = "web", image = base, detach = true, stop_timeout = "1s", args = { "httpd", "-f", "-p", "8080" } }
            local long = cmd { id = "long", image = base, after = web, args = { "sleep", "600" } }
            return pipeline { name = "interrupted", steps = { base, web, long } }
            """)
        let slipway = CommandRunner.slipway()
        let result = try await slipway.run(
            ["run", file, "--set", "base=\(try BusyboxImage.context().path)", "--progress", "plain"], environment: environment,
            interruptWhenStderrContains: "[long] started (cmd)", signal: signal)
        if signal == SIGINT {
            #expect(result.status == 1)
            #expect(result.stdout.contains("long   canceled") || result.stdout.contains("canceled"), "\(result.stdout)")
            #expect(result.stderr.contains("[web] service stopped"), "\(result.stderr)")
        } else {
            #expect(!runcContainers(in: state).isEmpty, "a killed Slipway leaves its containers running")
            let noop = try Scratch.recipe("return pipeline { name = \"noop\", steps = {} }")
            let next = try await slipway.run(["run", noop], environment: environment)
            #expect(next.status == 0, "\(next.stderr)")
            // Its containers are in its own state directory, so it is the one to remove them. The
            // network is the host's: another Slipway starting meanwhile (tests run in parallel)
            // may sweep it first; either way none is left (checked below).
            #expect(next.stderr.contains("removed 1 container(s)"), "\(next.stderr)")
        }
        try await expectNothingLeft(in: state)
    }

    /// Recipes/test-then-push.lua and its twin Recipes/acr/test-then-push.yaml, as a user runs
    /// them: the app is pushed when its test passes; when the test fails the run fails naming
    /// the test step, and nothing is pushed.
    @Test(arguments: ["Recipes/test-then-push.lua", "Recipes/acr/test-then-push.yaml"])
    func theTestThenPushRecipePushesOnlyATestedApp(recipe: String) async throws {
        try Prerequisites.requireRoot("cmd steps run containers with runc")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let state = StateDirectory(try Scratch.directory("recipe-state"))
        let environment = ["SLIPWAY_STATE_DIR": state.root.path]
        let slipway = CommandRunner.slipway()
        let base = "\(registry.address)/busybox:1"
        let built = try await slipway.run(["build", "-t", base, try BusyboxImage.context().path], environment: environment)
        #expect(built.status == 0, "\(built.stderr)")

        let arguments = ["run", recipe, "--registry", registry.address, "--set", "base=\(base)"]
        let passed = try await slipway.run(arguments + ["--set", "version=1", "--progress", "plain"], in: root, environment: environment)
        #expect(passed.status == 0, "\(passed.stderr)")
        #expect(passed.stderr.contains("[test] ok: the page says 'hello from slipway'"), "\(passed.stderr)")
        #expect(passed.stderr.contains("pushed \(registry.address)/web-app:1"), "\(passed.stderr)")
        try await expectNothingLeft(in: state)

        let failed = try await slipway.run(
            arguments + ["--set", "expect=goodbye", "--set", "version=2", "--progress", "plain"], in: root, environment: environment)
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("step 'test' failed: the container exited with status 1"), "\(failed.stderr)")
        #expect(!failed.stderr.contains("pushed \(registry.address)/web-app:2"))
        #expect(registry.requestCount(method: "PUT", uriContains: "/web-app/manifests/2") == 0)
        try await expectNothingLeft(in: state)
    }
}
