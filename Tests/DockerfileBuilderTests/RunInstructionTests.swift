import DockerfileBuilder
import Foundation
import Glibc
import SlipwayDockerfile
import SlipwayKernel
import SlipwayOCI
import SlipwayRuntime
import SlipwayTesting
import Synchronization
import Testing

/// RUN through the real runtime (runc, overlayfs) on the busybox base: failures name the
/// instruction and the exit status, the network can be taken away, cancellation leaves no
/// container, mount or bundle behind, and unpacked layers are reused.
@Suite(.serialized)
struct RunInstructionTests {
    /// A store holding the busybox base under `busybox:test`, and a context folder.
    func setUp(_ dockerfile: String) async throws -> (ContentStore, URL) {
        try Prerequisites.require(["runc"])
        let store = try Scratch.store("run")
        _ = try await NativeDockerfileBuilder(store: store, registry: RegistryClient())
            .build(BuildRequest(context: try BusyboxImage.context(), tags: ["localhost/busybox:test"]))
        let context = try Scratch.files(["Dockerfile": "FROM localhost/busybox:test\n" + dockerfile], label: "run-context")
        return (store, context)
    }

    func build(_ store: ContentStore, _ context: URL, network: NetworkMode = .host, log: (@Sendable (String) -> Void)? = nil) async throws -> NativeDockerfileBuilder.Result {
        var request = BuildRequest(context: context)
        request.network = network
        request.log = log
        return try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(request)
    }

    @Test func aFailingCommandNamesTheLineAndTheStatus() async throws {
        let (store, context) = try await setUp("RUN echo fine\nRUN echo 'about to fail' >&2; exit 3\n")
        let lines = LineCollector()
        let error = await #expect(throws: DockerfileError.self) { try await build(store, context, log: lines.add) }
        #expect(error?.location.line == 3)
        #expect(error?.description.contains("RUN") == true)
        #expect(error?.description.contains("exited with status 3") == true)
        #expect(lines.all.contains("about to fail"))
        #expect(lines.all.contains("fine"))
    }

    @Test func secretBuildArgumentsAreMaskedInOutputAndErrors() async throws {
        let (store, context) = try await setUp("""
            ARG TOKEN
            RUN echo "using token $TOKEN" && test -n "$TOKEN"
            RUN echo "again $TOKEN" >&2; exit 7
            """)
        var request = BuildRequest(context: context)
        request.secretBuildArgs = ["TOKEN": "s3cret-value"]
        let lines = LineCollector()
        request.log = lines.add
        let error = await #expect(throws: DockerfileError.self) {
            try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(request)
        }
        #expect(error?.description.contains("exited with status 7") == true)
        #expect(lines.all.contains("using token ***"), "\(lines.all)")
        #expect(lines.all.contains("again ***"))
        #expect(!lines.all.joined().contains("s3cret-value"))
    }

    @Test func aMissingExecutableIsReportedAsSuch() async throws {
        let (store, context) = try await setUp(#"RUN ["/no/such/tool", "--flag"]"# + "\n")
        let error = await #expect(throws: DockerfileError.self) { try await build(store, context) }
        #expect(error?.location.line == 2)
        #expect(error?.description.contains("/no/such/tool") == true)
    }

    /// Two identical layers (`RUN true` twice) used to break every later RUN: overlayfs refuses
    /// the same lower directory twice.
    @Test func identicalLayersDoNotBreakLaterRuns() async throws {
        let (store, context) = try await setUp("RUN true\nRUN true\nRUN echo after > /after\n")
        let result = try await build(store, context)
        let root = try await unpack(result, from: store)
        #expect(try String(contentsOf: root.appendingPathComponent("after"), encoding: .utf8) == "after\n")
    }

    /// Non-ASCII names written by RUN (python3 and ca-certificates have them) go into the layer.
    @Test func runMayWriteNonASCIINames() async throws {
        let (store, context) = try await setUp("RUN touch /café\n")
        let result = try await build(store, context)
        let root = try await unpack(result, from: store)
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("café").path))
    }

    /// A COPY into folders that lower layers made (a base's sticky /tmp, a home a RUN made)
    /// carries those folders into its layer as they are, so the next RUN (and anyone who
    /// unpacks the layer) still sees their owner and mode.
    @Test func copyIntoFoldersOfLowerLayersKeepsThem() async throws {
        let (store, context) = try await setUp("""
            RUN mkdir -p /home/bob && chown 1000:1000 /home/bob && chmod 0750 /home/bob
            COPY --chown=1000:1000 Dockerfile /home/bob/copied
            COPY Dockerfile /tmp/copied
            RUN stat -c %u:%a /home/bob /tmp > /seen

            """)
        let root = try await unpack(try await build(store, context), from: store)
        #expect(try String(contentsOf: root.appendingPathComponent("seen"), encoding: .utf8) == "1000:750\n0:1777\n")
    }

    /// RUN heredocs as BuildKit runs them: `RUN <<EOF` runs the body as the shell's script, a
    /// body starting with `#!` runs as its own file at /dev/pipes/NAME, and any other command
    /// gets its bodies appended as real shell heredocs. The shell expands variables, at run
    /// time; nothing of the script file is left in the layer.
    @Test func runHeredocsRunAsBuildKitRunsThem() async throws {
        let (store, context) = try await setUp("""
            ARG WHO=builder
            RUN <<EOF
            echo "plain $WHO" > /plain
            EOF
            RUN <<'SCRIPT'
            #!/bin/sh
            echo "shebang $0" > /shebang
            SCRIPT
            RUN cat <<ONE > /one && tr a-z A-Z <<-TWO > /two
            first $WHO
            ONE
            \tsecond
            \tTWO
            RUN test -f /one

            """)
        let root = try await unpack(try await build(store, context), from: store)
        func text(_ name: String) throws -> String { try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8) }
        #expect(try text("plain") == "plain builder\n")
        #expect(try text("shebang") == "shebang /dev/pipes/SCRIPT\n")
        #expect(try text("one") == "first builder\n")
        #expect(try text("two") == "SECOND\n")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("dev/pipes").path))
    }

    /// `RUN --network=none` is honoured per instruction; flags the builder cannot carry out as
    /// written are refused with the line, not dropped.
    @Test func runFlagsAreHonouredOrRefused() async throws {
        let (store, context) = try await setUp("RUN --network=none cat /proc/net/dev | grep : | sed 's/:.*//' | tr -d ' ' > /interfaces\n")
        let root = try await unpack(try await build(store, context), from: store)
        #expect(try String(contentsOf: root.appendingPathComponent("interfaces"), encoding: .utf8) == "lo\n")
        for (line, message) in [
            ("RUN --security=insecure true", "--security=insecure is not supported"),
            ("RUN --network=bridge true", "--network=bridge: expected default, none or host"),
            ("ADD --keep-git-dir=true a /b", "--keep-git-dir applies to Git sources"),
        ] {
            let refused = try Scratch.files(["Dockerfile": "FROM localhost/busybox:test\n\(line)\n", "a": "a"], label: "run-flags")
            let error = await #expect(throws: DockerfileError.self) { try await build(store, refused) }
            #expect(error?.location.line == 2)
            #expect(error?.description.contains(message) == true, "\(line): \(error.map { "\($0)" } ?? "")")
        }
    }

    /// `COPY f /usr/bin` (an existing directory, no trailing slash) puts the file into it, as
    /// Docker does; `COPY f /sbin/f` through a base's `sbin -> usr/bin` lands in usr/bin.
    @Test func copyOntoADirectoryOrThroughALinkGoesWhereDockerPutsIt() async throws {
        let (store, _) = try await setUp("")
        let linked = try Scratch.files(["Dockerfile": "FROM localhost/busybox:test\nCOPY links/ /\n", "links/.keep": ""], label: "links-base")
        #expect(symlink("usr/bin", linked.appendingPathComponent("links/sbin").path) == 0)
        _ = try await NativeDockerfileBuilder(store: store, registry: RegistryClient())
            .build(BuildRequest(context: linked, tags: ["localhost/linked:test"]))
        let context = try Scratch.files([
            "Dockerfile": "FROM localhost/linked:test\nCOPY f /usr/bin\nCOPY g /sbin/g\nRUN test -d /usr/bin && test -f /usr/bin/f && test -f /usr/bin/g && test -L /sbin && echo ok > /ok\n",
            "f": "f\n", "g": "g\n",
        ], label: "copy-into")
        let root = try await unpack(try await build(store, context), from: store)
        #expect(try String(contentsOf: root.appendingPathComponent("ok"), encoding: .utf8) == "ok\n")
    }

    /// `--chown=NAME` takes the user's primary group from /etc/passwd; a wildcard that matches
    /// nothing is fine beside a source that matches (both as BuildKit does).
    @Test func chownByNameUsesThePrimaryGroupAndEmptyWildcardsAreAllowed() async throws {
        let (store, context) = try await setUp("""
            RUN echo 'svc:x:1001:50:service:/srv:/bin/sh' >> /etc/passwd && echo 'staff:x:50:' >> /etc/group
            COPY --chown=svc f missing-*.txt /data/
            RUN stat -c %u:%g /data/f > /owner
            """)
        try Data("f\n".utf8).write(to: context.appendingPathComponent("f"))
        let root = try await unpack(try await build(store, context), from: store)
        #expect(try String(contentsOf: root.appendingPathComponent("owner"), encoding: .utf8) == "1001:50\n")
    }

    /// COPY --from keeps the source stage's owners and ADD of a local tar the archive's (unless
    /// --chown), as Docker does; context files still become root's.
    @Test func copyFromAndAddedArchivesKeepTheirOwners() async throws {
        let (store, context) = try await setUp("""
            RUN mkdir /src && echo x > /src/f && chown 1234:567 /src/f
            FROM localhost/busybox:test
            COPY --from=0 /src/f /from-stage
            ADD owned.tar /unpacked/
            COPY plain /plain
            RUN stat -c %u:%g /from-stage /unpacked/f /plain > /owners
            """)
        let files = try Scratch.files(["f": "f\n"], label: "owned")
        let tar = try await Shell.data("tar", ["--owner=1234", "--group=567", "--numeric-owner", "-cf", "-", "-C", files.path, "f"])
        try tar.write(to: context.appendingPathComponent("owned.tar"))
        try Data("p\n".utf8).write(to: context.appendingPathComponent("plain"))
        let root = try await unpack(try await build(store, context), from: store)
        let owners = try String(contentsOf: root.appendingPathComponent("owners"), encoding: .utf8)
        #expect(owners == "1234:567\n1234:567\n0:0\n", "\(owners)")
    }

    /// A fully cached multi-stage rebuild does no layer work: COPY --from is found in the cache
    /// by the source stage's diffIDs, before anything is unpacked. (The scratch space is made
    /// unusable for the second build; it succeeds only because nothing is extracted.)
    @Test func cachedCopyFromUnpacksNothing() async throws {
        let (store, context) = try await setUp("RUN echo built > /artifact\nFROM localhost/busybox:test\nCOPY --from=0 /artifact /artifact\n")
        let first = try await build(store, context)
        let scratch = StateDirectory(of: store).scratch
        try? FileManager.default.removeItem(at: scratch)
        try Data().write(to: scratch)  // a file where the scratch folder would go
        defer { try? FileManager.default.removeItem(at: scratch) }
        let lines = LineCollector()
        let second = try await build(store, context, log: lines.add)
        #expect(second.manifest.digest == first.manifest.digest)
        #expect(lines.all.contains { $0.contains("Dockerfile:4 COPY: cached") }, "\(lines.all)")
    }

    /// FIFOs a RUN makes stay in the layer, as buildah and Docker keep them.
    @Test func fifosMadeByRunAreKept() async throws {
        let (store, context) = try await setUp("RUN busybox mkfifo /tmp/pipe\nRUN test -p /tmp/pipe && echo ok > /ok\n")
        let root = try await unpack(try await build(store, context), from: store)
        var info = stat()
        #expect(lstat(root.appendingPathComponent("tmp/pipe").path, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFIFO)
        #expect(try String(contentsOf: root.appendingPathComponent("ok"), encoding: .utf8) == "ok\n")
    }

    /// A file capability travels the whole way: COPY from the context, unpacked into the layer
    /// cache, copied up by overlayfs when a RUN touches the file, scanned into the RUN's layer.
    @Test func fileCapabilitiesSurviveCopyAndCopyUp() async throws {
        let (store, context) = try await setUp("COPY ping /bin/ping\nRUN touch /bin/ping\n")
        let ping = context.appendingPathComponent("ping")
        try Data("#!/bin/sh\n".utf8).write(to: ping)
        let capability: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00] + [UInt8](repeating: 0, count: 12)
        #expect(ExtendedAttributes.set("security.capability", capability, on: ping.path))
        let result = try await build(store, context)
        let manifest = try store.manifest(result.manifest.digest)
        let runLayer = try #require(manifest.layers.last)
        let root = Scratch.location("capability-root")
        try LayerExtractor().extract(store.blobURL(runLayer.digest), into: root)
        #expect(ExtendedAttributes.value("security.capability", of: root.appendingPathComponent("bin/ping").path) == capability)
    }

    @Test func networkNoneLeavesOnlyLoopback() async throws {
        let (store, context) = try await setUp("RUN cat /proc/net/dev | grep : | sed 's/:.*//' | tr -d ' ' | sort > /interfaces\n")
        let result = try await build(store, context, network: .none)
        let root = try await unpack(result, from: store)
        #expect(try String(contentsOf: root.appendingPathComponent("interfaces"), encoding: .utf8) == "lo\n")
    }

    @Test func unpackedLayersAreCachedByDiffIDAndReused() async throws {
        let (store, context) = try await setUp("RUN echo one > /one\nRUN echo two > /two\n")
        let first = try await build(store, context)
        let cache = LayerCache(beside: store)
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: store.data(first.manifest.digest))
        let config = try JSONDecoder().decode(ImageConfig.self, from: store.data(manifest.config.digest))
        for diffID in config.rootfs.diffIDs {
            #expect(FileManager.default.fileExists(atPath: cache.directory(for: diffID).path))
        }
        // The RUN layers went into the cache from the containers' upper directories.
        let two = cache.directory(for: try #require(config.rootfs.diffIDs.last))
        #expect(try String(contentsOf: two.appendingPathComponent("two"), encoding: .utf8) == "two\n")
        #expect(first.report.layers.map(\.kind).suffix(2) == [.run, .run])
        // Same inputs, same image.
        let second = try await build(store, context)
        #expect(second.manifest.digest == first.manifest.digest)
    }

    @Test func aSecondBuildReusesEveryLayerAndNoCacheRunsAgain() async throws {
        let (store, context) = try await setUp("""
            COPY Dockerfile /src/
            RUN cat /proc/sys/kernel/random/uuid > /build-id
            RUN ls /src > /listing
            """)
        let first = try await build(store, context)
        let lines = LineCollector()
        let second = try await build(store, context, log: lines.add)
        #expect(second.manifest.digest == first.manifest.digest)
        #expect(lines.all.filter { $0.contains(": cached (layer ") }.count == 3, "\(lines.all)")

        // --no-cache runs the commands again: a new build id, so a new image.
        var request = BuildRequest(context: context)
        request.noCache = true
        let fresh = try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(request)
        #expect(fresh.manifest.digest != first.manifest.digest)

        // A changed input file misses from that instruction on.
        try "FROM localhost/busybox:test\n# changed\nCOPY Dockerfile /src/\nRUN cat /proc/sys/kernel/random/uuid > /build-id\nRUN ls /src > /listing\n"
            .write(to: context.appendingPathComponent("Dockerfile"), atomically: false, encoding: .utf8)
        let changed = LineCollector()
        _ = try await build(store, context, log: changed.add)
        #expect(changed.all.filter { $0.contains(": cached (layer ") }.isEmpty, "\(changed.all)")
    }

    /// Two independent stages meet over loopback: the sender sends for a few seconds and the
    /// listener gives up after a minute, so the build only succeeds if both stages run at the
    /// same time. The listener takes connections until one carries the message, because
    /// another test's harness may probe the same free port (a connection with nothing in it).
    @Test func independentStagesRunTogether() async throws {
        let port = try RegistryHarness.freePort()
        let (store, context) = try await setUp("""
            RUN for i in $(seq 10); do timeout 60 nc -l -p \(port) > /received.txt; grep -q sender /received.txt && break; done
            FROM localhost/busybox:test AS sender
            RUN for i in $(seq 40); do echo "hello from the sender" | nc 127.0.0.1 \(port); sleep 0.1; done; true
            FROM localhost/busybox:test
            COPY --from=0 /received.txt /
            COPY --from=sender /etc/passwd /sender-passwd
            """)
        let lines = LineCollector()
        let result = try await build(store, context, log: lines.add)
        let root = try await unpack(result, from: store)
        let received = try String(contentsOf: root.appendingPathComponent("received.txt"), encoding: .utf8)
        #expect(received == "hello from the sender\n", "\(received.debugDescription); log: \(lines.all)")
        // Both build stages start from the same base: it is listed once.
        #expect(result.report.buildTimeBases.map(\.reference) == ["localhost/busybox:test"])
    }

    @Test func cancellingABuildKillsTheContainerAndCleansUp() async throws {
        let (store, context) = try await setUp("RUN echo started; sleep 300\n")
        let lines = LineCollector()
        let task = Task { try await build(store, context, log: lines.add) }
        while !lines.all.contains("started") { try await Task.sleep(for: .milliseconds(20)) }
        task.cancel()
        await #expect(throws: (any Error).self) { try await task.value }
        let bundles = store.root.deletingLastPathComponent().appendingPathComponent("run")
        let left = try FileManager.default.contentsOfDirectory(atPath: bundles.path).filter { $0 != ".runc" }
        #expect(left.isEmpty, "left behind: \(left)")
        let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
        #expect(!mounts.contains(bundles.path))
    }

    func unpack(_ result: NativeDockerfileBuilder.Result, from store: ContentStore) async throws -> URL {
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: store.data(result.manifest.digest))
        let root = Scratch.location("run-rootfs")
        for layer in manifest.layers { try LayerExtractor(limits: .init(allowDevices: true)).extract(store.blobURL(layer.digest), into: root) }
        return root
    }
}

/// Output lines from a build, collected from any thread.
final class LineCollector: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    @Sendable func add(_ line: String) { lines.withLock { $0.append(line) } }
}
