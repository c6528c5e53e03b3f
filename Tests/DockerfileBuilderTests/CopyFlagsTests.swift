import DockerfileBuilder
import Foundation
import Glibc
import SlipwayDockerfile
import SlipwayKernel
import SlipwayOCI
import SlipwayTesting
import Testing

/// BuildKit's COPY and ADD flags and WORKDIR, on stages FROM scratch: `--parents`, `--exclude`,
/// `--link`, ADD of a Git repository with `--keep-git-dir`, escaped glob characters.
@Suite(.serialized)
struct CopyFlagsTests {
    func build(_ context: URL, store: ContentStore, log: (@Sendable (String) -> Void)? = nil) async throws -> NativeDockerfileBuilder.Result {
        var request = BuildRequest(context: context)
        request.log = log
        return try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(request)
    }

    /// The image's layers unpacked onto one folder, owners kept.
    func rootfs(_ result: NativeDockerfileBuilder.Result, _ store: ContentStore, label: String) throws -> URL {
        let root = Scratch.location(label)
        for layer in try store.manifest(result.manifest.digest).layers { try LayerExtractor().extract(store.blobURL(layer.digest), into: root) }
        return root
    }

    func text(_ root: URL, _ path: String) -> String? { try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) }

    func exists(_ root: URL, _ path: String) -> Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path) }

    func attributes(_ root: URL, _ path: String) throws -> (mode: Int, uid: Int, gid: Int) {
        let values = try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(path).path)
        return ((values[.posixPermissions] as? Int) ?? -1, (values[.ownerAccountID] as? Int) ?? -1, (values[.groupOwnerAccountID] as? Int) ?? -1)
    }

    /// The paths a layer holds, as written in its tar.
    func paths(inLayer descriptor: Descriptor, _ store: ContentStore) throws -> [String: LayerEntry] {
        let root = Scratch.location("layer-paths")
        try LayerExtractor().extract(store.blobURL(descriptor.digest), into: root)
        return Dictionary(uniqueKeysWithValues: try DirectoryScanner.entries(of: root).map { ($0.path, $0) })
    }

    /// WORKDIR makes its folder (BuildKit), owned by the current USER, in a layer of its own,
    /// even when no RUN follows; a folder the stage already has needs no layer.
    @Test func workdirMakesItsFolderForTheCurrentUser() async throws {
        let context = try Scratch.files([
            "Dockerfile": """
                FROM scratch
                COPY a.txt /srv/a.txt
                WORKDIR /srv
                USER 1000:1001
                WORKDIR /home/app/data
                WORKDIR /
                """,
            "a.txt": "a",
        ])
        let store = try Scratch.store()
        let result = try await build(context, store: store)
        #expect(result.report.layers.map(\.kind) == [.copy, .meta])
        let root = try rootfs(result, store, label: "workdir-root")
        for folder in ["home", "home/app", "home/app/data"] {
            let made = try attributes(root, folder)
            #expect(made.mode == 0o755 && made.uid == 1000 && made.gid == 1001, "\(folder): \(made)")
        }
        let config = try store.config(of: try store.manifest(result.manifest.digest))
        #expect(config.config?.workingDir == "/")
        // WORKDIR /srv (it exists) and WORKDIR / made no layer; WORKDIR /home/app/data did.
        let workdirs = (config.history ?? []).filter { $0.createdBy?.hasPrefix("WORKDIR") == true }
        #expect(workdirs.map { $0.emptyLayer ?? false } == [true, false, true])
    }

    /// COPY --parents keeps each match's path below the destination; `/./` marks where the kept
    /// part starts, and `**` spans folders.
    @Test func copyParentsKeepsPathsBelowThePivot() async throws {
        let context = try Scratch.files([
            "Dockerfile": """
                FROM scratch
                COPY --parents x/z/a.txt /one/
                COPY --parents ./x/./y/*.txt /two/
                COPY --parents x/**/*.txt /three
                COPY --parents=false x/z/a.txt /four/
                COPY --parents --exclude=b.txt x/**/*.txt /five/
                """,
            "x/z/a.txt": "a", "x/y/b.txt": "b", "x/y/c.md": "c",
        ])
        let store = try Scratch.store()
        let root = try rootfs(try await build(context, store: store), store, label: "parents-root")
        #expect(text(root, "one/x/z/a.txt") == "a")
        #expect(text(root, "two/y/b.txt") == "b")
        #expect(!exists(root, "two/y/c.md") && !exists(root, "two/x"))
        #expect(text(root, "three/x/z/a.txt") == "a" && text(root, "three/x/y/b.txt") == "b")
        #expect(!exists(root, "three/x/y/c.md"))
        #expect(text(root, "four/a.txt") == "a")
        #expect(text(root, "five/x/z/a.txt") == "a" && !exists(root, "five/x/y/b.txt"))

        let missing = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY --parents x/none.txt /d/\n", "x/a.txt": "a"])
        let error = await #expect(throws: DockerfileError.self) { try await build(missing, store: store) }
        #expect(error?.location.line == 2)
        #expect(error?.description.contains("'x/none.txt' does not match any file") == true, "\(error?.description ?? "")")
    }

    /// COPY --exclude leaves out what its patterns name, below a copied folder and among the
    /// matches of a wildcard; several --exclude add up.
    @Test func copyExcludeLeavesOutWhatItNames() async throws {
        let context = try Scratch.files([
            "Dockerfile": """
                FROM scratch
                COPY --exclude=*_test.go --exclude=docs app /app/
                COPY --exclude=*.txt app/* /flat/
                ADD --exclude=**/*.md app /added/
                """,
            "app/main.go": "package main", "app/main_test.go": "package main", "app/docs/readme.md": "docs",
            "app/notes.txt": "notes", "app/sub/deep.md": "deep", "app/sub/deep.go": "go",
        ])
        let store = try Scratch.store()
        let root = try rootfs(try await build(context, store: store), store, label: "exclude-root")
        #expect(exists(root, "app/main.go") && exists(root, "app/notes.txt") && exists(root, "app/sub/deep.go"))
        #expect(!exists(root, "app/main_test.go") && !exists(root, "app/docs"))
        #expect(exists(root, "flat/main.go") && exists(root, "flat/readme.md"))
        #expect(!exists(root, "flat/notes.txt"))
        #expect(exists(root, "added/sub/deep.go") && !exists(root, "added/sub/deep.md") && !exists(root, "added/docs/readme.md"))
    }

    /// A file left out by --exclude or .dockerignore never leaves a hardlink to it dangling:
    /// its partner that stays becomes a file of its own.
    @Test func excludedHardlinkPartnersLeaveWholeFiles() async throws {
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY --exclude=a.bin dir /dir/\n", "dir/a.bin": "shared bytes"])
        try FileManager.default.linkItem(at: context.appendingPathComponent("dir/a.bin"), to: context.appendingPathComponent("dir/b.bin"))
        let store = try Scratch.store()
        let result = try await build(context, store: store)
        let layer = try #require(try store.manifest(result.manifest.digest).layers.last)
        let entries = try paths(inLayer: layer, store)
        #expect(entries["dir/a.bin"] == nil)
        #expect(text(try rootfs(result, store, label: "hardlink-root"), "dir/b.bin") == "shared bytes")
    }

    /// COPY --link writes a layer that does not depend on the stage below: the same layer (and a
    /// cache hit) on another base, and the stage's folders are not carried into it.
    @Test func copyLinkIsIndependentOfTheStageBelow() async throws {
        let context = try Scratch.files([
            "Dockerfile.a": "FROM scratch\nCOPY tree/ /\nCOPY --link app.txt /srv/app.txt\n",
            "Dockerfile.b": "FROM scratch\nCOPY other.txt /other.txt\nCOPY --link app.txt /srv/app.txt\n",
            "Dockerfile.plain": "FROM scratch\nCOPY tree/ /\nCOPY app.txt /srv/app.txt\n",
            "tree/srv/keep": "1", "other.txt": "o", "app.txt": "app",
        ])
        chmod(context.appendingPathComponent("tree/srv").path, 0o700)
        let store = try Scratch.store()
        func build(_ file: String, log: (@Sendable (String) -> Void)? = nil) async throws -> Descriptor {
            var request = BuildRequest(context: context, dockerfile: file)
            request.log = log
            let result = try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(request)
            return try #require(try store.manifest(result.manifest.digest).layers.last)
        }
        let linkedOne = try await build("Dockerfile.a")
        let lines = LineCollector()
        let linkedTwo = try await build("Dockerfile.b", log: lines.add)
        #expect(linkedOne.digest == linkedTwo.digest)
        #expect(lines.all.contains { $0.contains("Dockerfile.b:3 COPY: cached") }, "\(lines.all)")
        // Linked, /srv is made 0755 in the layer; without --link the layer carries /srv as the
        // stage has it (0700).
        #expect(try paths(inLayer: linkedOne, store)["srv"]?.mode == 0o755)
        #expect(try paths(inLayer: try await build("Dockerfile.plain"), store)["srv"]?.mode == 0o700)
    }

    /// ADD of a Git URL copies the repository's files at the ref into the destination folder;
    /// --keep-git-dir keeps `.git`, with no credentials in its remote URL.
    @Test func addOfAGitRepositoryCopiesItsFiles() async throws {
        let server = try await GitServer.start()
        defer { server.stop() }
        _ = try await server.createRepository("lib", commits: [
            (branch: "main", files: ["README": "main\n", "src/lib.c": "int x;\n"]),
            (branch: "v2", files: ["README": "v2\n", "src/lib.c": "int y;\n"]),
        ])
        let context = try Scratch.files(["Dockerfile": """
            FROM scratch
            ADD \(server.gitURL("lib")) /lib
            ADD --keep-git-dir=true \(server.gitURL("lib"))#v2 /lib2/
            ADD --exclude=README \(server.gitURL("lib"))#v2 /src
            """])
        let store = try Scratch.store()
        let result = try await build(context, store: store)
        let root = try rootfs(result, store, label: "add-git-root")
        #expect(text(root, "lib/README") == "main\n" && text(root, "lib/src/lib.c") == "int x;\n")
        #expect(!exists(root, "lib/.git"))
        #expect(text(root, "lib2/README") == "v2\n" && exists(root, "lib2/.git/HEAD"))
        #expect(text(root, "lib2/.git/config")?.contains("127.0.0.1:\(server.port)/lib.git") == true)
        #expect(text(root, "src/src/lib.c") == "int y;\n" && !exists(root, "src/README"))
        #expect(result.report.layers.map(\.kind) == [.add, .add, .add])

        let stray = try Scratch.files(["Dockerfile": "FROM scratch\nADD --keep-git-dir a.txt /a\n", "a.txt": "a"])
        let error = await #expect(throws: DockerfileError.self) { try await build(stray, store: store) }
        #expect(error?.description.contains("--keep-git-dir applies to Git sources") == true, "\(error?.description ?? "")")
        let missing = try Scratch.files(["Dockerfile": "FROM scratch\nADD \(server.gitURL("lib"))#nope /x\n"])
        let failed = await #expect(throws: DockerfileError.self) { try await build(missing, store: store) }
        #expect(failed?.location.line == 2)
        #expect(failed?.description.contains("cannot fetch 'nope'") == true, "\(failed?.description ?? "")")
    }

    /// The Dockerfile's escape character is consumed by word expansion, as in BuildKit, so
    /// `n\?pe` is a glob; a glob character is matched literally in brackets (`[?]`, `[[]`) or
    /// escaped for the glob itself (`n\\?pe`).
    @Test func escapedGlobCharactersFollowBuildKit() async throws {
        let context = try Scratch.files([
            "Dockerfile": #"""
                FROM scratch
                COPY app/[[]xyz]/file.txt /brackets/
                COPY app/n[?]pe/ /literal/
                COPY app/n\\?pe/ /escaped/
                COPY app/n\?pe/ /globbed/
                """#,
            "app/[xyz]/file.txt": "xyz", "app/n?pe/literal.txt": "literal", "app/nope/nope.txt": "nope",
        ])
        let store = try Scratch.store()
        let root = try rootfs(try await build(context, store: store), store, label: "glob-root")
        #expect(text(root, "brackets/file.txt") == "xyz")
        #expect(exists(root, "literal/literal.txt") && !exists(root, "literal/nope.txt"))
        #expect(exists(root, "escaped/literal.txt") && !exists(root, "escaped/nope.txt"))
        #expect(exists(root, "globbed/literal.txt") && exists(root, "globbed/nope.txt"))
    }

    /// An ADDed archive that writes through a symlink it made itself (`link -> real`, then
    /// `link/file`) is refused, where Docker follows the link inside the destination: the
    /// archive is unpacked apart from the stage, so a link's target (often absolute) would be
    /// resolved against the wrong tree. Refused with the path, nothing is written.
    @Test func addedArchiveThroughItsOwnLinkIsRefused() async throws {
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nADD linked.tar /opt/\n", "real/file": "x", "staged/file": "y"])
        #expect(symlink("real", context.appendingPathComponent("link").path) == 0)
        // GNU tar: the link first, then staged/file renamed to link/file (regular names only).
        try await Shell.run("tar", ["-cf", "linked.tar", "--transform", "flags=r;s,^staged/,link/,", "link", "staged/file"], in: context)
        let listing = try await Shell.run("tar", ["-tvf", context.appendingPathComponent("linked.tar").path])
        #expect(listing.contains("link -> real") && listing.contains("link/file"), "\(listing)")
        let store = try Scratch.store()
        let error = await #expect(throws: DockerfileError.self) { try await build(context, store: store) }
        #expect(error?.location.line == 2)
        #expect(error?.description.contains("path goes through the symlink 'link'") == true, "\(error?.description ?? "")")
    }

    @Test(arguments: [
        ("COPY --link=maybe a.txt /a", "--link=maybe: expected true or false"),
        ("COPY --exclude a.txt /a", "--exclude needs a pattern"),
        ("WORKDIR /a.txt/inside", "'/a.txt' exists and is not a directory"),
    ])
    func badFlagsAndFoldersNameTheLine(line: String, message: String) async throws {
        let context = try Scratch.files(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n" + line + "\n", "a.txt": "a"])
        let error = await #expect(throws: DockerfileError.self) { try await build(context, store: try Scratch.store()) }
        #expect(error?.location.line == 3)
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
    }
}
