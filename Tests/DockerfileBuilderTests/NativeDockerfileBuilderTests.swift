import DockerfileBuilder
import Foundation
import SlipwayDockerfile
import SlipwayKernel
import SlipwayOCI
import SlipwayTesting
import Testing

@Suite(.serialized)
struct NativeDockerfileBuilderTests {
    static let dockerfile = """
        ARG BASE=scratch
        FROM ${BASE} AS files
        COPY app/ /srv/app/
        FROM scratch
        ARG VERSION=dev
        ENV GREETING="hello world" VERSION=${VERSION}
        WORKDIR /srv
        COPY --from=files /srv/app ./
        COPY --chown=1000:1000 --chmod=0600 config/*.conf /etc/app/
        COPY <<EOF motd
        ${GREETING} ${VERSION}
        EOF
        LABEL org.example.team=platform
        EXPOSE 8080 53/udp
        USER 1000:1000
        ENTRYPOINT ["/srv/run"]
        CMD ["--serve"]
        HEALTHCHECK --interval=30s --retries=2 CMD /srv/run --check
        """

    func context() throws -> URL {
        try Scratch.files([
            "Dockerfile": Self.dockerfile,
            "app/run": "#!/bin/sh\n",
            "app/data/values.txt": "1 2 3\n",
            "config/a.conf": "a=1\n",
            "config/b.conf": "b=2\n",
            "config/notes.txt": "not copied\n",
            "app/debug.log": "excluded\n",
            ".dockerignore": "app/*.log\n",
        ], label: "build-context")
    }

    func build(_ context: URL, store: ContentStore, args: [String: String] = [:], target: String? = nil) async throws -> NativeDockerfileBuilder.Result {
        try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(
            BuildRequest(context: context, buildArgs: args, target: target, tags: ["example/app:1"]))
    }

    @Test func buildsFilesAndConfig() async throws {
        let store = try Scratch.store()
        let result = try await build(try context(), store: store, args: ["VERSION": "1.2"])
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: store.data(result.manifest.digest))
        let config = try JSONDecoder().decode(ImageConfig.self, from: store.data(manifest.config.digest))
        let container = try #require(config.config)
        #expect(container.env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello world", "VERSION=1.2"])
        #expect(container.workingDir == "/srv")
        #expect(container.user == "1000:1000")
        #expect(container.entrypoint == ["/srv/run"])
        #expect(container.cmd == ["--serve"])
        #expect(container.labels == ["org.example.team": "platform"])
        #expect(Set(container.exposedPorts?.keys ?? [:].keys) == ["8080/tcp", "53/udp"])
        #expect(container.healthcheck?.test == ["CMD-SHELL", "/srv/run --check"])
        #expect(container.healthcheck?.interval == 30_000_000_000)
        // WORKDIR /srv makes the folder in a layer of its own (BuildKit), then three COPYs.
        #expect(config.rootfs.diffIDs.count == 4)
        #expect(result.report.layers.map(\.kind) == [.meta, .copy, .copy, .copy])
        #expect(result.report.runtimeBase == nil)
        #expect(try store.resolve("example/app:1")?.digest == result.manifest.digest)

        let root = Scratch.location("rootfs")
        for layer in manifest.layers { try LayerExtractor(limits: .init(keepOwnership: false)).extract(store.blobURL(layer.digest), into: root) }
        let fm = FileManager.default
        #expect(try String(contentsOf: root.appendingPathComponent("srv/motd"), encoding: .utf8) == "hello world 1.2\n")
        #expect(fm.fileExists(atPath: root.appendingPathComponent("srv/run").path))
        #expect(fm.fileExists(atPath: root.appendingPathComponent("srv/data/values.txt").path))
        #expect(!fm.fileExists(atPath: root.appendingPathComponent("srv/debug.log").path))  // .dockerignore
        #expect(fm.fileExists(atPath: root.appendingPathComponent("etc/app/a.conf").path))
        #expect(!fm.fileExists(atPath: root.appendingPathComponent("etc/app/notes.txt").path))
        let conf = try fm.attributesOfItem(atPath: root.appendingPathComponent("etc/app/b.conf").path)
        #expect(conf[.posixPermissions] as? Int == 0o600)
    }

    @Test func sameContextGivesTheSameDigestEvenFromAnotherStore() async throws {
        let first = try await build(try context(), store: try Scratch.store())
        let second = try await build(try context(), store: try Scratch.store())
        #expect(first.manifest.digest == second.manifest.digest)
        let changed = try await build(try context(), store: try Scratch.store(), args: ["VERSION": "2"])
        #expect(changed.manifest.digest != first.manifest.digest)
    }

    @Test func targetSelectsAStage() async throws {
        let store = try Scratch.store()
        let result = try await build(try context(), store: store, target: "files")
        #expect(result.report.layers.count == 1)
    }

    @Test func registryBaseIsRecordedWithItsDigest() async throws {
        let registry = try await RegistryHarness.start()
        let source = try Scratch.store()
        let base = try OCITestImages.write(into: source, files: ["etc/os-release": "ID=base\n"])
        let baseReference = try ImageReference(parsing: "\(registry.address)/base/os:1")
        _ = try await RegistryClient().push(base.manifest, from: source, to: baseReference)
        let builder = try await RegistryClient().push(base.manifest, from: source, to: try ImageReference(parsing: "\(registry.address)/base/builder:1"))
        let context = try Scratch.files([
            "Dockerfile": """
                FROM \(registry.address)/base/builder:1 AS build
                COPY app.txt /out/app.txt
                FROM \(baseReference)
                COPY --from=build /out/app.txt /app.txt
                """,
            "app.txt": "app\n",
        ])
        let store = try Scratch.store()
        let result = try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(BuildRequest(context: context))
        #expect(result.report.runtimeBase == BaseImage(reference: baseReference.description, digest: base.manifest.digest.description))
        #expect(result.report.buildTimeBases.map(\.reference) == ["\(registry.address)/base/builder:1"])
        #expect(result.report.buildTimeBases.first?.digest == builder.descriptor.digest.description)
        #expect(result.report.layers.map(\.kind) == [.base, .copy])
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: store.data(result.manifest.digest))
        #expect(manifest.annotations?[Annotation.baseName] == baseReference.description)
        #expect(manifest.annotations?[Annotation.baseDigest] == base.manifest.digest.description)
    }

    @Test(arguments: [
        ("FROM scratch\nCOPY missing.txt /x\n", "Dockerfile:2: COPY: 'missing.txt' does not match any file"),
        ("FROM scratch\nRUN echo hi\n", #"Dockerfile:2: RUN: cannot start the command: exec: "/bin/sh": stat /bin/sh: no such file"#),
        ("FROM scratch\nCOPY ../outside /x\n", "Dockerfile:2: COPY: '../outside' is outside the build context"),
        ("FROM scratch\nCOPY --chown=app:app a.txt /x\n", "Dockerfile:2: COPY: --chown=app:app: user 'app' is not in the image's /etc/passwd"),
        ("FROM scratch\nCOPY --from=Nowhere /a /b\n", "Dockerfile:2: COPY: --from=Nowhere names no earlier stage and is not an image reference"),
        ("FROM scratch\nENV A=${B:?B_must_be_set}\n", "Dockerfile:2: ENV: B: B_must_be_set"),
        ("FROM scratch\nCOPY a.txt\n", "Dockerfile:2: COPY: requires at least one source and a destination"),
        ("FROM Not/Valid\n", "Dockerfile:1: FROM: invalid image reference 'Not/Valid'"),
        ("FROM scratch\nCOPY --from=${STAGE:?unset} a.txt /b\n", "Dockerfile:2: COPY: --from: STAGE: unset"),
        ("FROM scratch\nHEALTHCHECK CMDX /check\n", "Dockerfile:2: HEALTHCHECK: expected NONE or CMD ..., not 'CMDX'"),
        ("FROM scratch\nHEALTHCHECK CMD\n", "Dockerfile:2: HEALTHCHECK: HEALTHCHECK CMD needs a command"),
    ])
    func errorsNameFileLineAndInstruction(dockerfile: String, message: String) async throws {
        let context = try Scratch.files(["Dockerfile": dockerfile, "a.txt": "a"])
        await #expect {
            _ = try await NativeDockerfileBuilder(store: try Scratch.store(), registry: RegistryClient()).build(BuildRequest(context: context))
        } throws: { error in
            String(describing: error).hasPrefix(message) || { print("got: \(error)"); return false }()
        }
    }

    /// An allow-list `.dockerignore` (`**`, then `!dir/file`) still lets `ADD dir /d` copy the
    /// re-included file; a heredoc may be named like a file (`<<robots.txt`).
    @Test func allowListIgnoreFilesAndDottedHeredocNames() async throws {
        let context = try Scratch.files([
            "Dockerfile": "FROM scratch\nADD dir /d\nCOPY <<robots.txt /srv/\nUser-agent: *\nrobots.txt\n",
            ".dockerignore": "**\n!dir/file\n",
            "dir/file": "kept\n", "dir/other": "left out\n",
        ])
        let store = try Scratch.store()
        let result = try await build(context, store: store)
        let root = Scratch.location("allow-list-root")
        for layer in try store.manifest(result.manifest.digest).layers { try LayerExtractor().extract(store.blobURL(layer.digest), into: root) }
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("d/file").path))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("d/other").path))
        #expect(try String(contentsOf: root.appendingPathComponent("srv/robots.txt"), encoding: .utf8) == "User-agent: *\n")
    }

    /// BuildKit's automatic platform ARGs: in FROM at once, in a stage once declared by name.
    @Test func platformArgsAreAutomatic() async throws {
        let context = try Scratch.files([
            "Dockerfile": "FROM --platform=$BUILDPLATFORM scratch\nARG TARGETOS\nARG TARGETARCH\nLABEL target=$TARGETOS/$TARGETARCH undeclared=x${BUILDOS}x\n",
        ])
        let store = try Scratch.store()
        var request = BuildRequest(context: context)
        request.platform = try Platform(parsing: "linux/arm64")
        let result = try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(request)
        let labels = try store.config(of: try store.manifest(result.manifest.digest)).config?.labels
        #expect(labels?["target"] == "linux/arm64")
        #expect(labels?["undeclared"] == "xx")
    }

    /// `--platform` picks the base from a multi-platform index, also when the store already
    /// holds the tag for another platform; the report records the platform's digest, and a RUN
    /// on a CPU the host cannot execute is refused with the line, not left to runc.
    @Test func platformSelectsTheBaseAndForeignRunsAreRefused() async throws {
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let source = try Scratch.store()
        let (index, amd, arm) = try OCITestImages.multiPlatformIndex(into: source)
        let reference = "\(registry.address)/multi/base:1"
        _ = try await RegistryClient().push(index, from: source, to: try ImageReference(parsing: reference))

        let context = try Scratch.files(["Dockerfile": "FROM \(reference)\nCOPY a.txt /a.txt\n", "a.txt": "a"])
        let store = try Scratch.store()
        func build(_ platform: String) async throws -> NativeDockerfileBuilder.Result {
            var request = BuildRequest(context: context)
            request.platform = try Platform(parsing: platform)
            return try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(request)
        }
        let onAMD = try await build("linux/amd64")
        #expect(onAMD.report.runtimeBase?.digest == amd.manifest.digest.description)
        // The store's tag now names the amd64 image; arm64 must not take it.
        let onARM = try await build("linux/arm64")
        #expect(onARM.report.runtimeBase?.digest == arm.manifest.digest.description)
        #expect(try store.config(of: try store.manifest(onARM.manifest.digest)).platform.architecture == "arm64")

        let missing = await #expect(throws: DockerfileError.self) { try await build("linux/s390x") }
        #expect(missing?.description.contains("not linux/s390x") == true, "\(missing?.description ?? "")")
        if !FileManager.default.fileExists(atPath: "/proc/sys/fs/binfmt_misc/qemu-aarch64") {
            let runs = try Scratch.files(["Dockerfile": "FROM \(reference)\nRUN true\n"])
            var request = BuildRequest(context: runs)
            request.platform = try Platform(parsing: "linux/arm64")
            let refused = await #expect(throws: DockerfileError.self) {
                try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(request)
            }
            #expect(refused?.location.line == 2)
            #expect(refused?.description.contains("this stage is linux/arm64/v8 and the host linux/amd64") == true, "\(refused?.description ?? "")")
        }
    }

    /// `--` ends COPY's flags; ONBUILD keeps its trigger whatever whitespace follows it.
    @Test func flagTerminatorAndOnbuildWithATab() async throws {
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY -- a.txt /a.txt\nONBUILD\tRUN echo later\n", "a.txt": "a"])
        let store = try Scratch.store()
        let result = try await build(context, store: store)
        let manifest = try store.manifest(result.manifest.digest)
        #expect(try store.config(of: manifest).config?.onBuild == ["RUN echo later"])
        #expect(manifest.layers.count == 1)
    }

    @Test func copyFromAnImageRecordsItAsABuildTimeBase() async throws {
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let source = try Scratch.store()
        let tools = try OCITestImages.write(into: source, files: ["usr/bin/tool": "#!/bin/sh\necho tool\n", "etc/other": "x\n"])
        let reference = "\(registry.address)/tools/kit:2"
        _ = try await RegistryClient().push(tools.manifest, from: source, to: try ImageReference(parsing: reference))
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY --from=\(reference) /usr/bin/tool /bin/tool\n"])
        let store = try Scratch.store()
        let result = try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(BuildRequest(context: context))
        #expect(result.report.buildTimeBases == [BaseImage(reference: reference, digest: tools.manifest.digest.description)])
        #expect(result.report.runtimeBase == nil)
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: store.data(result.manifest.digest))
        let root = Scratch.location("copy-from-image")
        for layer in manifest.layers { try LayerExtractor(limits: .init(keepOwnership: false)).extract(store.blobURL(layer.digest), into: root) }
        #expect(try String(contentsOf: root.appendingPathComponent("bin/tool"), encoding: .utf8) == "#!/bin/sh\necho tool\n")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("etc/other").path))

        let missing = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY --from=\(registry.address)/tools/none:1 /a /b\n"])
        let error = await #expect(throws: DockerfileError.self) {
            try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(BuildRequest(context: missing))
        }
        #expect(error?.location.line == 2)
        #expect(error?.description.contains("\(registry.address)/tools/none:1 is not available from \(registry.address)") == true, "\(error?.description ?? "")")
    }

    @Test func addDownloadsURLsWithoutUnpackingThem() async throws {
        let tarball = try OCITestImages.tarball(["inside.txt": "x\n"])
        let server = try await LoopbackHTTPServer.start { request in
            switch request.uri {
            case "/files/tool.tar": .init(status: 200, body: tarball)
            case "/files/notes.txt": .init(status: 200, body: Data("notes\n".utf8))
            default: .init(status: 404)
            }
        }
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)/files"
        let context = try Scratch.files(["Dockerfile": """
            FROM scratch
            ADD \(base)/tool.tar /downloads/
            ADD --chmod=0644 --checksum=\(Digest.sha256(of: Data("notes\n".utf8))) \(base)/notes.txt /etc/notes
            """])
        let store = try Scratch.store()
        let result = try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(BuildRequest(context: context))
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: store.data(result.manifest.digest))
        let root = Scratch.location("add-url")
        for layer in manifest.layers { try LayerExtractor(limits: .init(keepOwnership: false)).extract(store.blobURL(layer.digest), into: root) }
        let tool = root.appendingPathComponent("downloads/tool.tar")
        #expect(try Data(contentsOf: tool) == tarball)  // kept as downloaded, not unpacked
        #expect(try FileManager.default.attributesOfItem(atPath: tool.path)[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent("etc/notes").path)[.posixPermissions] as? Int == 0o644)
        #expect(result.report.layers.map(\.kind) == [.add, .add])

        for (line, expected) in [
            ("ADD --checksum=sha256:\(String(repeating: "0", count: 64)) \(base)/notes.txt /n", "not the sha256:000"),
            ("ADD \(base)/missing.txt /m", "cannot download \(base)/missing.txt: HTTP 404"),
        ] {
            let bad = try Scratch.files(["Dockerfile": "FROM scratch\n" + line + "\n"])
            let error = await #expect(throws: DockerfileError.self) {
                try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(BuildRequest(context: bad))
            }
            #expect(error?.location.line == 2)
            #expect(error?.description.contains(expected) == true, "\(error?.description ?? "")")
        }
    }

    @Test func missingBaseNamesTheReferenceAndRegistry() async throws {
        let registry = try await RegistryHarness.start()
        let context = try Scratch.files(["Dockerfile": "FROM \(registry.address)/does/not:exist\n"])
        await #expect {
            _ = try await NativeDockerfileBuilder(store: try Scratch.store(), registry: RegistryClient()).build(BuildRequest(context: context))
        } throws: { error in
            let text = String(describing: error)
            return text.hasPrefix("Dockerfile:1: FROM: base image \(registry.address)/does/not:exist is not available from \(registry.address)")
        }
    }
}
