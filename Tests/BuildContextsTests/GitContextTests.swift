import BuildContexts
import Foundation
import Logging
import SlipwayKernel
import SlipwayTesting
import Testing

/// Git contexts against a real `git daemon` (git://) and file:// repositories: branches, shas,
/// pull refs, subdirectories, and refusals for refs and paths that try to be something else.
@Suite(.serialized)
struct GitContextTests {
    /// main: Dockerfile + app/; feature: app changed + sub/; pr: the pull request's head.
    static func repository(_ server: GitServer) async throws -> [String] {
        let shas = try await server.createRepository("app", commits: [
            (branch: "main", files: ["Dockerfile": "FROM scratch\nCOPY app/ /app/\n", "app/version.txt": "main\n"]),
            (branch: "feature", files: ["Dockerfile": "FROM scratch\nCOPY app/ /app/\n", "app/version.txt": "feature\n",
                                        "sub/Dockerfile": "FROM scratch\nCOPY . /sub/\n", "sub/inner.txt": "inner\n"]),
            (branch: "pr", files: ["Dockerfile": "FROM scratch\n", "app/version.txt": "pull request\n"]),
        ])
        try await server.setRef("refs/pull/7/head", to: shas[2], in: "app")
        return shas
    }

    func checkout(_ text: String) async throws -> MaterializedContext {
        try await ContextLocation(parsing: text).materialize(scratch: try Scratch.directory("git-context"))
    }

    func version(_ context: MaterializedContext) throws -> String {
        try String(contentsOfFile: context.directory + "/app/version.txt", encoding: .utf8)
    }

    @Test func defaultBranchBranchShaAndPullRef() async throws {
        let server = try await GitServer.start()
        defer { server.stop() }
        let shas = try await Self.repository(server)

        let main = try await checkout(server.gitURL("app"))
        #expect(try version(main) == "main\n")
        #expect(main.facts["commit"] == shas[0])
        #expect(main.facts["branch"] == "main")
        #expect(main.facts["commit_time"].flatMap(Int64.init) != nil)
        #expect(!FileManager.default.fileExists(atPath: main.directory + "/.git"))

        let feature = try await checkout(server.gitURL("app") + "#feature")
        #expect(try version(feature) == "feature\n")
        #expect(feature.facts["commit"] == shas[1])
        #expect(feature.facts["branch"] == "feature")

        let bySha = try await checkout(server.gitURL("app") + "#" + shas[0])
        #expect(try version(bySha) == "main\n")
        #expect(bySha.facts["commit"] == shas[0])
        #expect(bySha.facts["branch"] == nil)

        let pull = try await checkout(server.gitURL("app") + "#pull/7/head")
        #expect(try version(pull) == "pull request\n")
        #expect(pull.facts["commit"] == shas[2])
    }

    @Test func subdirectoryOverFileTransport() async throws {
        let server = try await GitServer.start()
        defer { server.stop() }
        let shas = try await Self.repository(server)
        let context = try await checkout(server.fileURL("app") + "#feature:sub")
        #expect(context.directory.hasSuffix("/sub"))
        #expect(context.facts["subdir"] == "sub")
        #expect(context.facts["commit"] == shas[1])
        #expect(try String(contentsOfFile: context.directory + "/inner.txt", encoding: .utf8) == "inner\n")
    }

    @Test(arguments: [
        ("#--upload-pack=touch /tmp/slipway-git-pwned", "refusing the Git ref '--upload-pack=touch /tmp/slipway-git-pwned'"),
        ("#-c", "refusing the Git ref '-c'"),
        ("#main:../..", "refusing the context subdirectory '../..'"),
        ("#main:/etc", "refusing the context subdirectory '/etc'"),
        ("#a..b", "refusing the Git ref 'a..b'"),
    ])
    func hostileRefsAndPathsAreRefusedBeforeGitRuns(suffix: String, message: String) async throws {
        let error = await #expect(throws: GitLocator.Invalid.self) { try await checkout("git://127.0.0.1:9/app.git" + suffix) }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/slipway-git-pwned"))
    }

    @Test func aURLThatIsAnOptionIsNotAGitURL() throws {
        #expect(throws: (any Error).self) { try GitLocator(parsing: "--upload-pack=touch /tmp/x") }
        #expect(!GitLocator.looksLikeGit("-oProxyCommand=touch /tmp/x"))
        if case .local = try ContextLocation(parsing: "./some/folder") {} else { Issue.record("a folder is a local context") }
        if case .tarball = try ContextLocation(parsing: "https://example.com/ctx.tar.gz") {} else { Issue.record("a .tar.gz URL is a tarball") }
        if case .git = try ContextLocation(parsing: "https://example.com/repo.git#main") {} else { Issue.record("a .git URL is Git") }
    }

    @Test func aMissingRefOrFolderIsNamed() async throws {
        let server = try await GitServer.start()
        defer { server.stop() }
        _ = try await Self.repository(server)
        let ref = await #expect(throws: GitCheckout.Failure.self) { try await checkout(server.gitURL("app") + "#no-such-branch") }
        #expect(ref?.description.contains("cannot fetch 'no-such-branch'") == true, "\(ref?.description ?? "")")
        let folder = await #expect(throws: GitCheckout.Failure.self) { try await checkout(server.gitURL("app") + "#main:nowhere") }
        #expect(folder?.description.contains("no folder 'nowhere'") == true)
    }

    @Test func credentialsNeverShowInMessages() async throws {
        let locator = try GitLocator(parsing: "https://builder:s3cret-token@127.0.0.1:9/repo.git#main")
        #expect(locator.description == "https://builder:***@127.0.0.1:9/repo.git#main")
        #expect(GitLocator.redacted("https://ghp_abc@github.com/x/y.git") == "https://***@github.com/x/y.git")
        let error = await #expect(throws: GitCheckout.Failure.self) {
            try await GitCheckout(locator).materialize(into: try Scratch.directory("git-creds").appendingPathComponent("c"))
        }
        #expect(error?.description.contains("s3cret-token") == false, "\(error?.description ?? "")")
        #expect(error?.description.contains("builder:***@") == true, "\(error?.description ?? "")")
    }

    /// A trigger's version names a commit: that commit is fetched, not the branch's head.
    @Test func theVersionsCommitIsWhatIsFetched() async throws {
        let server = try await GitServer.start()
        defer { server.stop() }
        let shas = try await Self.repository(server)
        let source = try GitContext(configuration: .init(url: server.gitURL("app"), ref: "feature", subdir: nil))
        let context = StepContext(runID: "r", stepID: StepID("build"), logger: Logger(label: "test"), workDirectory: NSTemporaryDirectory())
        let pinned = try await source.materialize(Version(["sha": shas[0]]), into: try Scratch.directory("git-version").path, in: context)
        #expect(pinned.facts["commit"] == shas[0])
        #expect(try version(pinned) == "main\n")
        #expect(try await source.cacheKey(for: Version(["sha": shas[0]]), in: context) == shas[0])
        let head = try await source.materialize(nil, into: try Scratch.directory("git-version").path, in: context)
        #expect(try version(head) == "feature\n")
        #expect(source.locator == server.gitURL("app") + "#feature")
    }
}
