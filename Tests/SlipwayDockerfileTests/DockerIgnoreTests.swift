import Foundation
import SlipwayDockerfile
import Testing

struct DockerIgnoreTests {
    static let rules = DockerIgnore(
        """
        # build output and secrets
        *.log
        /build
        **/node_modules
        docs/**/*.tmp
        secrets/
        !secrets/public.pem
        temp?
        [Cc]ache
        """)

    @Test(arguments: [
        ("app.log", true), ("src/app.log", false), ("build", true), ("build/out/a.o", true), ("src/build", false),
        ("node_modules/x/index.js", true), ("web/node_modules/y", true), ("docs/a/b/c.tmp", true), ("docs/c.tmp", true),
        ("docs/c.md", false), ("secrets/key", true), ("secrets/public.pem", false), ("temp1", true), ("temp12", false),
        ("Cache", true), ("cache/file", true), ("src/main.swift", false), ("./app.log", true),
    ])
    func matchesLikeDocker(path: String, excluded: Bool) {
        #expect(Self.rules.excludes(path) == excluded)
    }

    @Test func laterRulesWin() {
        let rules = DockerIgnore("*\n!keep\n!dir/\ndir/drop")
        #expect(rules.excludes("anything"))
        #expect(!rules.excludes("keep"))
        #expect(!rules.excludes("dir/file"))
        #expect(rules.excludes("dir/drop"))
        #expect(rules.mayReinclude(below: "dir"))
        #expect(!DockerIgnore("secrets\n").mayReinclude(below: "secrets"))
    }

    @Test func dockerfileSpecificIgnoreFileWins() throws {
        let context = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-ignore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: context, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: context) }
        try "*.md\n".write(to: context.appendingPathComponent(".dockerignore"), atomically: false, encoding: .utf8)
        let read = { (path: String) in try? String(contentsOf: context.appendingPathComponent(path), encoding: .utf8) }
        #expect(try DockerIgnore.load(dockerfile: "Dockerfile", reading: read).excludes("README.md"))
        try "*.txt\n".write(to: context.appendingPathComponent("Dockerfile.prod.dockerignore"), atomically: false, encoding: .utf8)
        let specific = try DockerIgnore.load(dockerfile: "Dockerfile.prod", reading: read)
        #expect(specific.excludes("notes.txt"))
        #expect(!specific.excludes("README.md"))
    }
}
