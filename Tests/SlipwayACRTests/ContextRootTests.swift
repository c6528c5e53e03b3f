import SlipwayACR
import SlipwayKernel
import Testing

/// A stored task's relative build contexts are inside its source, a folder or a Git repository
/// at one ref; a context that climbs out of it is refused with its line.
struct ContextRootTests {
    func context(_ build: String, root: String) throws -> String? {
        let file = try ACRTaskFile(
            text: "steps:\n  - build: -t x \(build)\n", file: "acb.yaml", run: RunInfo(id: "r1", trigger: "manual"), secrets: [:],
            contextRoot: ContextRoot(root))
        guard case .string(let context)? = file.pipeline.steps.first?.configuration["context"] else { return nil }
        return context
    }

    @Test(arguments: [
        (".", "git://h/app.git#abc123", "git://h/app.git#abc123"),
        ("web", "git://h/app.git#abc123", "git://h/app.git#abc123:web"),
        ("./web/../api", "git://h/app.git#main:services", "git://h/app.git#main:services/api"),
        ("..", "git://h/app.git#main:services/web", "git://h/app.git#main:services"),
        ("web", "/srv/app", "/srv/app/web"),
        (".", "/srv/app/", "/srv/app/"),
        ("/abs/ctx", "/srv/app", "/abs/ctx"),
        ("https://example.com/ctx.tar.gz", "/srv/app", "https://example.com/ctx.tar.gz"),
    ])
    func relativeContextsAreInsideTheSource(build: String, root: String, expected: String) throws {
        #expect(try context(build, root: root) == expected)
    }

    @Test(arguments: [("..", "git://h/app.git#main"), ("web/../..", "/srv/app"), ("../x", "git://h/app.git#main:")])
    func contextsClimbingOutAreRefused(build: String, root: String) throws {
        #expect {
            _ = try context(build, root: root)
        } throws: { error in
            "\(error)".contains("acb.yaml:2") && "\(error)".contains("climbs out of the task's source")
        }
    }
}
