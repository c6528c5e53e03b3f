import Foundation
import SlipwayOCI
import SlipwayTesting
import Testing

/// The `patch` step on a real Debian image: a bookworm base made with bookworm main alone is
/// patched with the -updates and -security suites in one added layer; dpkg in the result lists
/// the new versions; patching again changes and pushes nothing; a report naming one package
/// upgrades only what it needs.
@Suite(.serialized)
struct PatchTests {
    let slipway = CommandRunner.slipway()

    static let sources = [
        "deb http://deb.debian.org/debian bookworm main", "deb http://deb.debian.org/debian bookworm-updates main",
        "deb http://deb.debian.org/debian-security bookworm-security main",
    ]

    /// The shipped nightly recipe, with this machine's mirror as its sources.
    static let patchRecipe = CLITests.root.appendingPathComponent("Recipes/nightly-os-patch.lua").path

    static let listRecipe = """
        return pipeline { steps = { cmd { id = "list", image = values.image, pull = true, network = "none", args = { "dpkg-query", "-W", "-f", "${Package} ${Version}\\n" } } } }
        """

    func run(_ recipe: String, _ values: [String: String], state: URL) async throws -> CommandRunner.Result {
        let sets = values.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }
        let file = recipe.hasSuffix(".lua") ? recipe : try Scratch.recipe(recipe)
        return try await slipway.run(["run", file, "--state-dir", state.path] + sets)
    }

    func patch(_ values: [String: String], state: URL) async throws -> CommandRunner.Result {
        let sources = try Scratch.files(["sources.json": "{\"sources\": [\(Self.sources.map { "\"\($0)\"" }.joined(separator: ", "))]}"], label: "patch-sources")
        let sets = values.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }
        return try await slipway.run(
            ["run", Self.patchRecipe, "--state-dir", state.path, "--values", sources.appendingPathComponent("sources.json").path] + sets)
    }

    /// `upgraded NAME FROM → TO` lines of a patch run.
    static func upgrades(in log: String) -> [String: String] {
        var found: [String: String] = [:]
        for line in log.split(separator: "\n") {
            guard let range = line.range(of: "[patch-1] upgraded ") else { continue }
            let words = line[range.upperBound...].split(separator: " ")
            if words.count == 4 { found[String(words[0])] = String(words[3]) }
        }
        return found
    }

    func installed(_ image: String, state: URL) async throws -> [String: String] {
        let listed = try await run(Self.listRecipe, ["image": image], state: state)
        #expect(listed.status == 0, "\(listed.stderr)")
        var versions: [String: String] = [:]
        for line in listed.stderr.split(separator: "\n") {
            guard let range = line.range(of: "[list] ") else { continue }
            let words = line[range.upperBound...].split(separator: " ")
            if words.count == 2 { versions[String(words[0])] = String(words[1]) }
        }
        return versions
    }

    func layers(_ image: String) async throws -> Int {
        let raw = try await Shell.run("skopeo", ["inspect", "--tls-verify=false", "--raw", "docker://\(image)"])
        return try JSONDecoder().decode(ImageManifest.self, from: Data(raw.utf8)).layers.count
    }

    @Test func aBookwormMainImageIsPatchedFromUpdatesAndSecurityInOneLayer() async throws {
        try Prerequisites.require(["runc", "skopeo", "docker-registry"])
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let state = Scratch.location("patch-state")
        let image = "\(registry.address)/os/debian:main"
        let base = try await slipway.run(["build", "-t", image, try await DebianImage.context(.main).path], environment: ["SLIPWAY_STATE_DIR": state.path])
        #expect(base.status == 0, "\(base.stderr)")
        let before = try await installed(image, state: state)

        let patched = try await patch(["images": image], state: state)
        #expect(patched.status == 0, "\(patched.stderr)")
        let upgrades = Self.upgrades(in: patched.stderr)
        #expect(!upgrades.isEmpty, "bookworm main has packages that -updates or -security upgrade: \(patched.stderr)")
        print("patched \(upgrades.count) packages: \(upgrades.keys.sorted().joined(separator: " "))")
        #expect(try await layers("\(image)-patched") == (try await layers(image)) + 1, "exactly one layer is added")
        let after = try await installed("\(image)-patched", state: state)
        for (name, version) in upgrades {
            #expect(after[name] == version, "\(name): dpkg lists \(after[name] ?? "nothing"), the patch installed \(version)")
            #expect(before[name] != version)
        }
        #expect(after.count == before.count, "an upgrade adds and removes no package")
        let config = try await Shell.run("skopeo", ["inspect", "--tls-verify=false", "--config", "docker://\(image)-patched"])
        #expect(config.contains("slipway patch: apt-get upgrade "))

        // Patched again: nothing to do, nothing pushed.
        let again = try await patch(["images": "\(image)-patched"], state: state)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("nothing to update; no new image, nothing pushed"), "\(again.stderr)")
        #expect((try? await Shell.run("skopeo", ["inspect", "--tls-verify=false", "--raw", "docker://\(image)-patched-patched"])) == nil)

        // A report naming one package (tzdata when it is among them: nothing depends on its version).
        let chosen = upgrades.keys.contains("tzdata") ? "tzdata" : upgrades.keys.sorted()[0]
        let report = try Scratch.files([
            "trivy.json": """
                {"SchemaVersion": 2, "Results": [{"Target": "debian", "Vulnerabilities": [
                  {"VulnerabilityID": "CVE-0000-0001", "PkgName": "\(chosen)", "InstalledVersion": "\(before[chosen] ?? "")", "FixedVersion": "\(upgrades[chosen]!)"},
                  {"VulnerabilityID": "CVE-0000-0002", "PkgName": "not-installed-here", "FixedVersion": "1.0"},
                  {"VulnerabilityID": "CVE-0000-0003", "PkgName": "\(chosen)", "FixedVersion": ""}]},
                 {"Target": "app/package-lock.json", "Class": "lang-pkgs", "Type": "npm", "Vulnerabilities": [
                  {"VulnerabilityID": "CVE-0000-0004", "PkgName": "\(chosen)", "FixedVersion": "999.0"}]}]}
                """,
        ], label: "patch-report").appendingPathComponent("trivy.json")
        let one = try await patch(["images": image, "report": report.path, "tag_policy": "increment"], state: state)
        #expect(one.status == 0, "\(one.stderr)")
        let only = Self.upgrades(in: one.stderr)
        #expect(only[chosen] == upgrades[chosen], "\(one.stderr)")
        if chosen == "tzdata" { #expect(Set(only.keys) == ["tzdata"], "only the package the report names: \(only)") }
        #expect(only.count < upgrades.count)
        #expect(one.stderr.contains("not-installed-here: named by the report, not installed in the image"))
        #expect(one.stderr.contains("1 vulnerabilit(ies)"))
        #expect(one.stderr.contains("1 vulnerabilit(ies) of npm packages") && one.stderr.contains("are not OS packages"), "\(one.stderr)")
        #expect(try await layers("\(image)-1") == (try await layers(image)) + 1, "tag_policy increment pushes TAG-1")
    }

    @Test func refusalsNameWhatIsWrong() async throws {
        let state = Scratch.location("patch-refusals")
        let bad = try await patch(["images": "registry.invalid/app:1", "tag_policy": "sometimes"], state: state)
        #expect(bad.status != 0 && bad.stderr.contains("tag_policy") && bad.stderr.contains("'sometimes' is not a tag policy"), "\(bad.stderr)")
        let report = try Scratch.files(["r.json": #"{"Results": [{"Vulnerabilities": [{"PkgName": "libc6; touch /pwned", "FixedVersion": "2"}]}]}"#], label: "bad-report")
        let hostile = try await patch(["images": "127.0.0.1:1/app:1", "report": report.appendingPathComponent("r.json").path], state: state)
        #expect(hostile.status != 0)
        #expect(hostile.stderr.contains("'libc6; touch /pwned'") && hostile.stderr.contains("is not a package name"), "\(hostile.stderr)")

        // Not a Debian image: refused with what it lacks, nothing pushed.
        try Prerequisites.require(["runc", "docker-registry"])
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let busybox = "\(registry.address)/os/busybox:1"
        let built = try await slipway.run(["build", "-t", busybox, try BusyboxImage.context().path], environment: ["SLIPWAY_STATE_DIR": state.path])
        #expect(built.status == 0, "\(built.stderr)")
        let foreign = try await patch(["images": busybox], state: state)
        #expect(foreign.status != 0 && foreign.stderr.contains("the image has no dpkg status"), "\(foreign.stderr)")
    }
}
