import Foundation
import SlipwayOCI
import SlipwayTesting
import Testing

/// Every recipe in Recipes/ is planned, and run where it needs nothing outside this machine.
struct ShippedRecipeTests {
    static let root = CLITests.root
    static let recipes: [String] = {
        let folder = root.appendingPathComponent("Recipes")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".lua") }.sorted()
    }()

    @Test func thereAreRecipes() {
        #expect(Self.recipes.contains("hello.lua"))
    }

    /// Values a recipe needs to be planned.
    static let planValues: [String: [String]] = [
        "quick-build.lua": ["--set", "tag=registry.example.com/site:1", "--set", "context=Recipes/examples/static-site"],
        "multi-stage.lua": ["--set", "registry=registry.example.com"],
        "test-then-push.lua": ["--registry", "registry.example.com", "--set", "base=registry.example.com/busybox:1"],
        "rebuild-on-base.lua": [
            "--set", "context=Recipes/examples/busybox-app", "--set", "base=registry.example.com/busybox:1", "--set", "image=registry.example.com/greet:1",
        ],
        "nightly-os-patch.lua": ["--set", "images=registry.example.com/mirror/nginx:1,registry.example.com/mirror/redis:7"],
        "patch-on-base-update.lua": [
            "--set", "context=Recipes/examples/busybox-app", "--set", "base=registry.example.com/busybox:1", "--set", "image=registry.example.com/greet:1",
        ],
    ]

    @Test(arguments: recipes)
    func recipePlans(name: String) async throws {
        let result = try await CommandRunner.slipway().run(["plan", "Recipes/\(name)"] + (Self.planValues[name] ?? []), in: Self.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("pipeline '"))
    }

    @Test func buildRecipesRunAgainstARealRegistry() async throws {
        let registry = try await RegistryHarness.start()
        let env = ["SLIPWAY_STATE_DIR": Scratch.location("recipe-state").path]
        let quick = try await CommandRunner.slipway().run(
            ["run", "Recipes/quick-build.lua", "--set", "tag=\(registry.address)/site:1", "--set", "context=Recipes/examples/static-site"],
            in: Self.root, environment: env)
        #expect(quick.status == 0, "\(quick.stderr)")
        #expect(quick.stderr.contains("pushed \(registry.address)/site:1: uploaded 1, mounted 0, already there 1"), "the layer went up while it was written")

        // The same recipe with a Git context.
        let server = try await GitServer.start()
        defer { server.stop() }
        try await server.createRepository("site", commits: [
            (branch: "main", files: ["web/Dockerfile": "FROM scratch\nCOPY index.html /srv/\n", "web/index.html": "<h1>git</h1>\n"]),
        ])
        let fromGit = try await CommandRunner.slipway().run(
            ["run", "Recipes/quick-build.lua", "--set", "tag=\(registry.address)/site:git", "--set", "context=\(server.gitURL("site"))#main:web"],
            in: Self.root, environment: env)
        #expect(fromGit.status == 0, "\(fromGit.stderr)")
        #expect(fromGit.stderr.contains("[image] fetching context git://"), "\(fromGit.stderr)")
        #expect(fromGit.stderr.contains("pushed \(registry.address)/site:git: uploaded 1, mounted 0, already there 1"))

        let multi = try await CommandRunner.slipway().run(
            ["run", "Recipes/multi-stage.lua", "--set", "registry=\(registry.address)", "--set", "version=1.0"], in: Self.root, environment: env)
        #expect(multi.status == 0, "\(multi.stderr)")
        // Layers: WORKDIR /app (BuildKit makes the folder in a layer of its own), then two COPYs.
        #expect(multi.stderr.contains("pushed \(registry.address)/multi-stage:1.0: uploaded 4"), "\(multi.stderr)")
        #expect(multi.stderr.contains("pushed \(registry.address)/multi-stage:latest: uploaded 0, mounted 0, already there 4"), "\(multi.stderr)")
        #expect(multi.stderr.contains("[echo-1] published 1.0"))
        let pulled = try await RegistryClient().pull(
            try ImageReference(parsing: "\(registry.address)/multi-stage:1.0"), into: try Scratch.store())
        #expect(pulled.downloaded == 4)
    }

    /// What `make demo` does: the busybox base FROM scratch (RUN in a container), then the app
    /// FROM it with COPY and RUN; the app records its base and its RUN ran as the app user.
    @Test func busyboxBaseAndAppExamplesBuildAndPush() async throws {
        try Prerequisites.require(["runc"])
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let state = Scratch.location("busybox-example-state")
        let env = ["SLIPWAY_STATE_DIR": state.path]
        let baseContext = Scratch.location("busybox-example")
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent("Recipes/examples/busybox-base"), to: baseContext)
        try FileManager.default.copyItem(atPath: BusyboxImage.binary, toPath: baseContext.appendingPathComponent("busybox").path)
        let base = "\(registry.address)/busybox:1"
        let builtBase = try await CommandRunner.slipway().run(["build", "-t", base, baseContext.path], in: Self.root, environment: env)
        #expect(builtBase.status == 0, "\(builtBase.stderr)")

        let app = try await CommandRunner.slipway().run(
            ["build", "-t", "\(registry.address)/greet:1", "--build-arg", "BASE=\(base)", "--json", "Recipes/examples/busybox-app"],
            in: Self.root, environment: env)
        #expect(app.status == 0, "\(app.stderr)")
        #expect(app.stdout.contains("\"reference\" : \"\(base)\""))
        #expect(app.stdout.contains(builtBase.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))

        let store = try ContentStore.inStateDirectory(state)
        let image = try #require(try store.resolve("\(registry.address)/greet:1"))
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: store.data(image.digest))
        let root = Scratch.location("greet-rootfs")
        for layer in manifest.layers { try LayerExtractor(limits: .init(allowDevices: true)).extract(store.blobURL(layer.digest), into: root) }
        let built = try String(contentsOf: root.appendingPathComponent("var/lib/greet/built.txt"), encoding: .utf8)
        #expect(built == "hello from app at build time, in /app\n")

        // The COPY-only site the demo rebases: built on the base, its page where httpd serves from.
        // (No run network here: CmdStepTests checks the host's networks while it runs.)
        let site = try await CommandRunner.slipway().run(
            ["run", "Recipes/patch-on-base-update.lua", "--set", "context=Recipes/examples/busybox-site", "--set", "base=\(base)",
             "--set", "image=\(registry.address)/site:1"],
            in: Self.root, environment: env)
        #expect(site.status == 0, "\(site.stderr)")
        let served = try await CommandRunner.slipway().run(
            ["run", try Scratch.recipe("""
                return pipeline { steps = { cmd { id = "page", image = "\(registry.address)/site:1", network = "none",
                                                  args = { "sh", "-c", "command -v httpd >/dev/null && cat /srv/www/index.html" } } } }
                """)],
            in: Self.root, environment: env)
        #expect(served.status == 0 && served.stderr.contains("Served from a rebased image"), "\(served.stderr)")
    }

    @Test func aRecipeWithoutItsValuesSaysWhatIsMissing() async throws {
        let result = try await CommandRunner.slipway().run(["plan", "Recipes/quick-build.lua"], in: Self.root)
        #expect(result.status == 64)
        #expect(result.stderr.contains("Recipes/quick-build.lua:7: set the destination: --set tag="))
    }

    @Test func helloRecipeRuns() async throws {
        let result = try await CommandRunner.slipway().run(["run", "Recipes/hello.lua", "--set", "who=Test Suite"], in: Self.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("[greet-test-suite] hello, Test Suite"))
        #expect(result.stderr.contains("[summary] all 3 regions warmed"))
    }
}
