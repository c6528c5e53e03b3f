import Foundation
import Glibc
import SlipwayTesting
import Testing

/// Build contexts written by an attacker, through the real CLI: symlinks that point at the
/// host, in folder and Git contexts. A canary folder on the host holds a secret; it must never
/// reach a layer, the state directory or a pushed image, and nothing may be added to it.
@Suite(.serialized)
struct HostileContextTests {
    let slipway = CommandRunner.slipway()

    /// A context whose links point at the canary (`hostdir`, `dlink`, `secret`) and at `/` (`root`).
    func hostileContext(_ canary: Canary, dockerfile: String) throws -> URL {
        let context = try Scratch.files(["Dockerfile": dockerfile, "a.txt": "a\n"], label: "hostile-context")
        for (name, target) in [("hostdir", canary.folder.path), ("dlink", canary.folder.path), ("root", "/"), ("secret", canary.secret.path)] {
            #expect(symlink(target, context.appendingPathComponent(name).path) == 0)
        }
        return context
    }

    @Test(arguments: [
        ("a glob whose directory is a link to a host folder", "COPY hostdi[r]/secret /x\n", "'hostdi[r]/secret' does not match any file"),
        ("a prefix glob matching links", "COPY dli*/secret /x\n", "'dli*/secret' does not match any file"),
        ("a plain path through a link", "COPY hostdir/secret /x\n", "'hostdir/secret' does not match any file"),
        ("a glob matching a link to the host file", "COPY secre[t] /x\n", "'secre[t]' does not match any file"),
        ("a glob below a linked directory", "COPY hostdir/secre? /x\n", "'hostdir/secre?' does not match any file"),
    ])
    func linksInGlobsAreFollowedInsideTheContextOnly(attack: String, copy: String, message: String) async throws {
        let canary = try Canary()
        let state = Scratch.location("hostile-state")
        let context = try hostileContext(canary, dockerfile: "FROM scratch\n" + copy)
        let build = try await slipway.run(["build", "--no-push", "-t", "local/hostile:1", context.path], environment: ["SLIPWAY_STATE_DIR": state.path])
        #expect(build.status == 64, "\(attack): \(build.stderr)")
        #expect(build.stderr.contains("Dockerfile:2: COPY: \(message)"), "\(attack): \(build.stderr)")
        #expect(try await !Canary.token(canary.token, appearsUnder: state), "\(attack): the host file reached the state directory")
        #expect(canary.isUntouched)
    }

    /// `COPY * /x/` with a link to `/` among the matches copies the context, never the host.
    @Test func aStarWithALinkToTheRootCopiesOnlyTheContext() async throws {
        let canary = try Canary()
        let state = Scratch.location("hostile-state")
        let context = try hostileContext(canary, dockerfile: "FROM scratch\nCOPY * /x/\n")
        let build = try await slipway.run(["build", "--no-push", "-t", "local/hostile:star", context.path], environment: ["SLIPWAY_STATE_DIR": state.path])
        #expect(build.status == 0, "\(build.stderr)")
        #expect(try await !Canary.token(canary.token, appearsUnder: state))
        #expect(canary.isUntouched)
        // The context's own files did arrive: `root` named the context's root.
        let inspect = try await slipway.run(["image", "inspect", "local/hostile:star"], environment: ["SLIPWAY_STATE_DIR": state.path])
        #expect(inspect.status == 0, "\(inspect.stderr)")
    }

    /// The same attack from a Git commit, built and pushed: the pulled image has the context's
    /// files and not the host's.
    @Test func aGitContextWithTheGlobAttackPushesNoHostFile() async throws {
        try Prerequisites.require(["git", "skopeo"])
        let registry = try await RegistryHarness.start()
        let canary = try Canary()
        let marker = "context-\(UUID().uuidString)"
        let repository = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY * /app/\n", "data.txt": marker + "\n"], label: "hostile-git")
        #expect(symlink(canary.folder.path, repository.appendingPathComponent("hostdir").path) == 0)
        #expect(symlink(canary.secret.path, repository.appendingPathComponent("secret").path) == 0)
        let git = ["-C", repository.path, "-c", "user.email=attacker@example.invalid", "-c", "user.name=attacker"]
        try await Shell.run("git", git + ["init", "-q", "-b", "main"])
        try await Shell.run("git", git + ["add", "-A"])
        try await Shell.run("git", git + ["commit", "-q", "-m", "hostile"])

        let state = Scratch.location("hostile-state")
        let reference = "\(registry.address)/hostile/git:1"
        let build = try await slipway.run(["build", "-t", reference, "file://\(repository.path)#main"], environment: ["SLIPWAY_STATE_DIR": state.path])
        #expect(build.status == 0, "\(build.stderr)")

        let pulled = Scratch.location("hostile-pulled")
        try await Shell.run("skopeo", ["copy", "--src-tls-verify=false", "docker://\(reference)", "oci:\(pulled.path):pulled"])
        #expect(try await Canary.token(marker, appearsUnder: pulled), "the context's own file is missing from the pushed image")
        #expect(try await !Canary.token(canary.token, appearsUnder: pulled), "the host's file was pushed")
        #expect(try await !Canary.token(canary.token, appearsUnder: state))
        #expect(canary.isUntouched)
    }

    /// A Dockerfile or .dockerignore that is a link to a host file is read inside the context.
    @Test func aLinkedDockerfileIsReadInsideTheContext() async throws {
        let canary = try Canary()
        let context = try Scratch.directory("hostile-dockerfile")
        #expect(symlink(canary.secret.path, context.appendingPathComponent("Dockerfile").path) == 0)
        let build = try await slipway.run(["build", "--no-push", context.path], environment: ["SLIPWAY_STATE_DIR": Scratch.location("hostile-state").path])
        #expect(build.status == 64)
        #expect(build.stderr.contains("cannot read the Dockerfile 'Dockerfile'"), "\(build.stderr)")
        #expect(!build.stderr.contains(canary.token))
    }

    @Test func aDockerfileThatIsNotUTF8NamesTheLine() async throws {
        let context = try Scratch.directory("hostile-encoding")
        var bytes = [UInt8]("FROM scratch\nLABEL name=caf".utf8)
        bytes += [0xE9, 0x0A]  // Latin-1 é: not UTF-8
        try Data(bytes).write(to: context.appendingPathComponent("Dockerfile"))
        let build = try await slipway.run(["build", "--no-push", context.path], environment: ["SLIPWAY_STATE_DIR": Scratch.location("hostile-state").path])
        #expect(build.status == 64)
        #expect(build.stderr.contains("Dockerfile:2: the Dockerfile is not UTF-8 text"), "\(build.stderr)")
    }

    /// `slipway build http://…/ctx.tar.gz` (it used to fail: the download folder was never made).
    @Test func aRemoteTarballContextBuildsFromTheCLI() async throws {
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY hello.txt /\n", "hello.txt": "hello\n"], label: "tarball-context")
        let archive = try await Shell.data("tar", ["-czf", "-", "-C", context.path, "."])
        let server = try await LoopbackHTTPServer.start { _ in .init(status: 200, body: archive) }
        defer { server.stop() }
        let state = Scratch.location("hostile-state")
        let build = try await slipway.run(
            ["build", "--no-push", "-t", "local/tarball:1", "http://127.0.0.1:\(server.port)/ctx.tar.gz"], environment: ["SLIPWAY_STATE_DIR": state.path])
        #expect(build.status == 0, "\(build.stderr)")
        #expect(build.stderr.contains("fetching context http://127.0.0.1:\(server.port)/ctx.tar.gz"))
    }
}
