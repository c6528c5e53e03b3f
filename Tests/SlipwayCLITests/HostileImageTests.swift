import Foundation
import Glibc
import SlipwayOCI
import SlipwayTesting
import Testing

/// Images published by an attacker, built upon through the real CLI, registry and runc: links
/// planted for host-side code to follow, a layer that claims another image's diffID, layers
/// that inflate without end, and RUN steps that try to leave their namespaces.
@Suite(.serialized)
struct HostileImageTests {
    let slipway = CommandRunner.slipway()

    /// A state directory holding the busybox base as `localhost/busybox:hostile`.
    func stateWithBase() async throws -> [String: String] {
        try Prerequisites.require(["runc"])
        let env = ["SLIPWAY_STATE_DIR": Scratch.location("hostile-state").path]
        let base = try await slipway.run(["build", "--no-push", "-t", "localhost/busybox:hostile", try BusyboxImage.context().path], environment: env)
        #expect(base.status == 0, "\(base.stderr)")
        return env
    }

    /// An image on the busybox base whose top layer holds `links` (path → link target).
    func imageWithLinks(_ links: [String: String], tag: String, env: [String: String]) async throws {
        let context = try Scratch.files(["Dockerfile": "FROM localhost/busybox:hostile\nCOPY links/ /\n", "links/.keep": ""], label: "hostile-links")
        for (path, target) in links {
            #expect(symlink(target, context.appendingPathComponent("links/\(path)").path) == 0)
        }
        let build = try await slipway.run(["build", "--no-push", "-t", tag, context.path], environment: env)
        #expect(build.status == 0, "\(build.stderr)")
    }

    func build(_ dockerfile: String, env: [String: String], _ extra: [String] = [], files: [String: String] = [:]) async throws -> CommandRunner.Result {
        let context = try Scratch.files(files.merging(["Dockerfile": dockerfile]) { _, new in new }, label: "hostile-app")
        return try await slipway.run(["build", "--no-push"] + extra + [context.path], environment: env)
    }

    // MARK: Links planted in a base image

    /// `app -> <host folder>` and `WORKDIR /app/x/y`: the folders are made inside the container's
    /// root, not on the host.
    @Test func workdirThroughAPlantedLinkStaysInTheRoot() async throws {
        let env = try await stateWithBase()
        let canary = try Canary()
        try await imageWithLinks(["app": canary.folder.path], tag: "localhost/hostile:app", env: env)
        let result = try await build("FROM localhost/hostile:app\nWORKDIR /app/x/y\nRUN pwd\n", env: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(canary.isUntouched, "WORKDIR made folders on the host")
    }

    /// `etc -> <host folder>`: the mount points for /etc/hosts and /etc/resolv.conf are not made
    /// there.
    @Test func mountPointsThroughAPlantedLinkStayInTheRoot() async throws {
        let env = try await stateWithBase()
        let canary = try Canary()
        try await imageWithLinks(["etc": canary.folder.path], tag: "localhost/hostile:etc", env: env)
        let result = try await build("FROM localhost/hostile:etc\nRUN true\n", env: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(canary.isUntouched, "files were created in the host folder the image's /etc points at")
    }

    /// `etc -> /etc`: USER and --chown names are never looked up in the host's passwd (where
    /// `_apt` is uid 42 on Debian).
    @Test func userNamesAreNeverResolvedAgainstTheHost() async throws {
        let env = try await stateWithBase()
        try await imageWithLinks(["etc": "/etc"], tag: "localhost/hostile:hostetc", env: env)
        let user = try await build("FROM localhost/hostile:hostetc\nUSER _apt\nRUN id -u\n", env: env)
        #expect(user.status != 0, "USER _apt resolved: \(user.stderr)")
        #expect(user.stderr.contains("'etc': too many levels of symbolic links"), "\(user.stderr)")
        let chown = try await build("FROM localhost/hostile:hostetc\nCOPY --chown=_apt f /f\n", env: env, files: ["f": "x"])
        #expect(chown.status == 64, "\(chown.stderr)")
        #expect(chown.stderr.contains("Dockerfile:2: COPY: --chown=_apt"), "\(chown.stderr)")
    }

    /// COPY --from an image whose glob runs through the image's own link to `/`... and on to
    /// the host: the image's links resolve inside the image.
    @Test func copyFromAnImageFollowsItsLinksInsideIt() async throws {
        let env = try await stateWithBase()
        let canary = try Canary()
        try await imageWithLinks(["escape": canary.folder.path], tag: "localhost/hostile:escape", env: env)
        let result = try await build("FROM scratch\nCOPY --from=localhost/hostile:escape escap[e]/secret /x\n", env: env)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("does not match any file"), "\(result.stderr)")
        #expect(try await !Canary.token(canary.token, appearsUnder: URL(fileURLWithPath: env["SLIPWAY_STATE_DIR"]!)))
    }

    // MARK: diffID poisoning

    /// The attacker's image claims the victim's diffID for its own layer. Built first, in the
    /// same state directory, it is refused; the victim's build then runs the victim's files.
    @Test func aLayerClaimingAnotherImagesDiffIDCannotPoisonTheCache() async throws {
        let env = try await stateWithBase()
        let registry = try await RegistryHarness.start()
        let victim = "\(registry.address)/victim/app:1"
        let victimBuild = try await slipway.run(
            ["build", "-t", victim, try Scratch.files(["Dockerfile": "FROM localhost/busybox:hostile\nCOPY msg /msg\n", "msg": "victim-content\n"]).path],
            environment: env)
        #expect(victimBuild.status == 0, "\(victimBuild.stderr)")

        // The attacker: the same base, a layer saying "attacker-content", the victim's diffID.
        let attackerState = ["SLIPWAY_STATE_DIR": Scratch.location("attacker-state").path]
        let base = try await slipway.run(["build", "--no-push", "-t", "localhost/busybox:hostile", try BusyboxImage.context().path], environment: attackerState)
        #expect(base.status == 0)
        let honest = try await build("FROM localhost/busybox:hostile\nCOPY msg /msg\n", env: attackerState, ["-t", "localhost/attacker:honest"], files: ["msg": "attacker-content\n"])
        #expect(honest.status == 0, "\(honest.stderr)")
        let victimStore = try ContentStore(root: URL(fileURLWithPath: env["SLIPWAY_STATE_DIR"]!).appendingPathComponent("oci"))
        let victimManifest = try victimStore.manifest(try #require(try victimStore.resolve(victim)).digest)
        let victimDiffID = try #require(try victimStore.config(of: victimManifest).rootfs.diffIDs.last)
        let store = try ContentStore(root: URL(fileURLWithPath: attackerState["SLIPWAY_STATE_DIR"]!).appendingPathComponent("oci"))
        let manifest = try store.manifest(try #require(try store.resolve("localhost/attacker:honest")).digest)
        var config = try store.config(of: manifest)
        config.rootfs.diffIDs[config.rootfs.diffIDs.count - 1] = victimDiffID
        let forged = ImageManifest(config: try store.write(json: config, mediaType: MediaType.ociConfig), layers: manifest.layers)
        try store.tag("localhost/attacker:forged", try store.write(json: forged, mediaType: MediaType.ociManifest))
        let attacker = "\(registry.address)/attacker/app:1"
        let push = try await slipway.run(["image", "push", attacker, "--from", "localhost/attacker:forged"], environment: attackerState)
        #expect(push.status == 0, "\(push.stderr)")

        // In the victim's state directory: the attacker's image first, then the victim's.
        let poisoned = try await build("FROM \(attacker)\nRUN cat /msg\n", env: env)
        #expect(poisoned.status != 0)
        #expect(poisoned.stderr.contains("Dockerfile:2: RUN: cannot unpack a layer of the base image \(attacker)"), "\(poisoned.stderr)")
        #expect(poisoned.stderr.contains("claims diffID \(victimDiffID)"), "\(poisoned.stderr)")
        let honestBuild = try await build("FROM \(victim)\nRUN cat /msg\n", env: env, ["--no-cache"])
        #expect(honestBuild.status == 0, "\(honestBuild.stderr)")
        #expect(honestBuild.stderr.contains("victim-content"), "\(honestBuild.stderr)")
        #expect(!honestBuild.stderr.contains("attacker-content"))
    }

    // MARK: Bombs

    /// A few KB of gzip that inflate to 64 MiB, refused at a 16 MiB layer cap; the image cap and
    /// the free-space check stop builds the same way. Nothing is left half-unpacked.
    @Test func inflatingLayersStopAtTheCaps() async throws {
        let env = try await stateWithBase()
        let registry = try await RegistryHarness.start()
        let store = try ContentStore(root: URL(fileURLWithPath: env["SLIPWAY_STATE_DIR"]!).appendingPathComponent("oci"))
        let base = try store.manifest(try #require(try store.resolve("localhost/busybox:hostile")).digest)
        var config = try store.config(of: base)
        let tar = try OCITestImages.tarball(["zeros": String(repeating: "\0", count: 64 << 20)])
        let gzip = try await Shell.data("gzip", ["-9", "-c"], input: tar)
        #expect(gzip.count < 1 << 20)
        let layer = Descriptor(mediaType: MediaType.ociLayerGzip, digest: try store.write(gzip), size: Int64(gzip.count))
        config.rootfs.diffIDs.append(Digest.sha256(of: tar))
        let manifest = ImageManifest(config: try store.write(json: config, mediaType: MediaType.ociConfig), layers: base.layers + [layer])
        try store.tag("localhost/bomb:1", try store.write(json: manifest, mediaType: MediaType.ociManifest))
        let bomb = "\(registry.address)/hostile/bomb:1"
        let push = try await slipway.run(["image", "push", bomb, "--from", "localhost/bomb:1"], environment: env)
        #expect(push.status == 0, "\(push.stderr)")

        let layerCap = try await build("FROM \(bomb)\nRUN true\n", env: env, ["--max-layer-size", "16MiB"])
        #expect(layerCap.status != 0)
        #expect(layerCap.stderr.contains("Dockerfile:2: RUN: cannot unpack a layer of the base image \(bomb): layer \(layer.digest)"), "\(layerCap.stderr)")
        #expect(layerCap.stderr.contains("unpacks to more than 16 MiB, the limit for one layer"), "\(layerCap.stderr)")

        let imageCap = try await build("FROM \(bomb)\nRUN true\n", env: env, ["--max-image-size", "48MiB"])
        #expect(imageCap.stderr.contains("the limit for one image"), "\(imageCap.stderr)")

        let disk = try await build("FROM \(bomb)\nRUN true\n", env: env, ["--min-free-space", "1000TiB"])
        #expect(disk.stderr.contains("less than the 1000 TiB Slipway keeps free"), "\(disk.stderr)")

        let layers = URL(fileURLWithPath: env["SLIPWAY_STATE_DIR"]!).appendingPathComponent("layers")
        let staging = (try? FileManager.default.contentsOfDirectory(atPath: layers.appendingPathComponent("staging").path)) ?? []
        #expect(staging.isEmpty, "half-unpacked layers were left: \(staging)")
        #expect(!FileManager.default.fileExists(atPath: layers.appendingPathComponent("sha256/\(Digest.sha256(of: tar).hex)").path))
    }

    // MARK: RUN isolation

    /// Docker's default seccomp policy: no new user namespace (which would hand the step a full
    /// capability set); the documented opt-out restores it.
    @Test func runCannotCreateNamespacesUnlessSeccompIsTurnedOff() async throws {
        let env = try await stateWithBase()
        let dockerfile = #"FROM localhost/busybox:hostile"# + "\n" + #"RUN ["/bin/busybox", "unshare", "-U", "-r", "-m", "-n", "/bin/busybox", "id", "-u"]"# + "\n"
        let confined = try await build(dockerfile, env: env, ["--no-cache"])
        #expect(confined.status == 1, "unshare succeeded under the default filter, or a failed RUN did not exit 1: \(confined.stderr)")
        #expect(confined.stderr.contains("Dockerfile:2: RUN: the command exited with status"), "\(confined.stderr)")
        let unconfined = try await build(dockerfile, env: env, ["--no-cache", "--security-opt", "seccomp=unconfined"])
        #expect(unconfined.status == 0, "\(unconfined.stderr)")
        #expect(unconfined.stderr.contains("without a seccomp filter"))
        let refused = try await build(dockerfile, env: env, ["--security-opt", "apparmor=unconfined"])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("the only security option is seccomp=unconfined"))
        // The buildah builder would not honour it: refused, not dropped.
        let buildah = try await build(dockerfile, env: env, ["--builder", "buildah", "--security-opt", "seccomp=unconfined"])
        #expect(buildah.status == 64)
        #expect(buildah.stderr.contains("--security-opt is not honoured by --builder buildah"), "\(buildah.stderr)")
    }

    // MARK: State directory

    /// Unpacked images keep their setuid files and devices: the state tree is private, and so
    /// are the scratch roots of COPY --from (no longer in the world-readable /tmp).
    @Test func theStateDirectoryIsPrivate() async throws {
        let state = try Scratch.directory("hostile-state")
        chmod(state.path, 0o755)
        let env = ["SLIPWAY_STATE_DIR": state.path]
        let before = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("slipway-stage-") }
        let build = try await build("FROM scratch AS a\nCOPY f /f\nFROM scratch\nCOPY --from=a /f /g\n", env: env, files: ["f": "x"])
        #expect(build.status == 0, "\(build.stderr)")
        var info = stat()
        #expect(stat(state.path, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o700)
        let after = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("slipway-stage-") }
        #expect(Set(after) == Set(before))
    }
}
