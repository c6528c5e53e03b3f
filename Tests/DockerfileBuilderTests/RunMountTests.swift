import DockerfileBuilder
import Foundation
import SlipwayDockerfile
import SlipwayKernel
import SlipwayOCI
import SlipwayRuntime
import SlipwayTesting
import Testing

/// `RUN --mount` through the real runtime on the busybox base: caches outlive builds, secrets
/// reach the RUN and nothing else, tmpfs and bind mounts are there for the RUN only.
@Suite(.serialized)
struct RunMountTests {
    let runs = RunInstructionTests()

    func context(_ dockerfile: String, files: [String: String] = [:]) throws -> URL {
        try Scratch.files(files.merging(["Dockerfile": "FROM localhost/busybox:test\n" + dockerfile]) { a, _ in a }, label: "mount-context")
    }

    func build(_ store: ContentStore, _ context: URL, configure: (inout BuildRequest) -> Void = { _ in }) async throws -> NativeDockerfileBuilder.Result {
        var request = BuildRequest(context: context)
        configure(&request)
        return try await NativeDockerfileBuilder(store: store, registry: RegistryClient()).build(request)
    }

    /// A second build sees what the first wrote to the cache; the cache is never in a layer.
    @Test func cacheMountsOutliveBuildsAndStayOutOfLayers() async throws {
        let (store, _) = try await runs.setUp("")
        let dockerfile = "RUN --mount=type=cache,target=/var/cache/app,id=app-cache sh -c 'echo run >> /var/cache/app/log; cat /var/cache/app/log > /seen'\n"
        let first = try await runs.unpack(try await build(store, try context(dockerfile)), from: store)
        #expect(try String(contentsOf: first.appendingPathComponent("seen"), encoding: .utf8) == "run\n")
        let second = try await runs.unpack(try await build(store, try context(dockerfile)) { $0.noCache = true }, from: store)
        #expect(try String(contentsOf: second.appendingPathComponent("seen"), encoding: .utf8) == "run\nrun\n")
        #expect(!FileManager.default.fileExists(atPath: second.appendingPathComponent("var/cache").path))
        // Another id is another cache; sharing=locked and private work on their own too.
        let other = "RUN --mount=type=cache,target=/c,sharing=locked sh -c 'ls /c | wc -l > /count'\nRUN --mount=type=cache,target=/owned,sharing=private,uid=1000,mode=0700 stat -c %u-%a /owned > /owner\n"
        let third = try await runs.unpack(try await build(store, try context(other)), from: store)
        #expect(try String(contentsOf: third.appendingPathComponent("count"), encoding: .utf8).trimmingCharacters(in: .whitespaces) == "0\n")
        #expect(try String(contentsOf: third.appendingPathComponent("owner"), encoding: .utf8) == "1000-700\n")
    }

    /// The secret is readable by the RUN (as a file and as a variable) and appears in no layer,
    /// history entry, log line or file of the state directory.
    @Test func secretsReachTheRunAndNothingElse() async throws {
        let (store, _) = try await runs.setUp("")
        let secret = "s3cr3t-mount-value-7f1c"
        let dockerfile = """
            RUN --mount=type=secret,id=token test "$(wc -c < /run/secrets/token)" = \(secret.utf8.count) && echo "read $(cat /run/secrets/token)" && stat -c %a /run/secrets/token > /mode
            RUN --mount=type=secret,id=token,env=TOKEN,target=/etc/token sh -c 'test "$TOKEN" = "$(cat /etc/token)" && echo "env $TOKEN"'
            RUN --mount=type=secret,id=absent echo "absent secret skipped"

            """
        let lines = LineCollector()
        let result = try await build(store, try context(dockerfile)) {
            $0.secrets = ["token": Data(secret.utf8)]
            $0.log = lines.add
        }
        #expect(lines.all.contains("read ***"), "\(lines.all)")
        #expect(lines.all.contains("env ***"))
        #expect(lines.all.contains { $0.contains("id=absent: the build was given no such secret") })
        #expect(!lines.all.joined().contains(secret))
        let root = try await runs.unpack(result, from: store)
        #expect(try String(contentsOf: root.appendingPathComponent("mode"), encoding: .utf8) == "400\n")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("run/secrets").path))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("etc/token").path))
        // Layers (unpacked and compressed), configs, history, the instruction cache, scratch.
        let state = StateDirectory(of: store).root
        var searched = 0
        for case let file as URL in FileManager.default.enumerator(at: state, includingPropertiesForKeys: nil)! {
            guard let data = FileManager.default.contents(atPath: file.path) else { continue }
            searched += 1
            #expect(data.range(of: Data(secret.utf8)) == nil, "the secret is in \(file.path)")
        }
        #expect(searched > 10)

        let missing = await #expect(throws: DockerfileError.self) {
            try await build(store, try context("RUN --mount=type=secret,id=needed,required=true true\n"))
        }
        #expect(missing?.location.line == 2)
        #expect(missing?.description.contains("the secret 'needed' is required") == true)
    }

    @Test func tmpfsAndBindMountsAreThereForTheRunOnly() async throws {
        let (store, _) = try await runs.setUp("")
        let dockerfile = """
            FROM localhost/busybox:test AS tools
            RUN echo tool > /tool
            FROM localhost/busybox:test
            RUN --mount=type=tmpfs,target=/scratch sh -c 'echo x > /scratch/f && grep " /scratch " /proc/mounts | cut -d" " -f3 > /fs'
            RUN --mount=type=bind,source=data,target=/src sh -c 'cat /src/a.txt > /copied; ls /src > /listed; touch /src/x 2> /dev/null || echo ro > /readonly'
            RUN --mount=type=bind,source=data,target=/src,rw touch /src/written
            RUN --mount=from=tools,source=/tool,target=/t cat /t > /got

            """
        let files = ["data/a.txt": "from the context\n", "data/hidden.txt": "ignored\n", ".dockerignore": "data/hidden.txt\n"]
        let folder = try Scratch.files(files.merging(["Dockerfile": dockerfile]) { a, _ in a }, label: "mount-context")
        let root = try await runs.unpack(try await build(store, folder), from: store)
        func text(_ name: String) throws -> String { try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8) }
        #expect(try text("fs") == "tmpfs\n")
        #expect(try text("copied") == "from the context\n")
        #expect(try text("listed") == "a.txt\n", "the .dockerignore'd file is not shown")
        #expect(try text("readonly") == "ro\n")
        #expect(try text("got") == "tool\n")
        for gone in ["scratch", "src", "t"] { #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(gone).path), "\(gone)") }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("data/written").path), "a rw bind writes to a copy")

        // The bound files are part of the RUN's cache key: an edit runs it again.
        try "edited\n".write(to: folder.appendingPathComponent("data/a.txt"), atomically: false, encoding: .utf8)
        let edited = try await runs.unpack(try await build(store, folder), from: store)
        #expect(try String(contentsOf: edited.appendingPathComponent("copied"), encoding: .utf8) == "edited\n")
    }

    /// A cached RUN that binds another stage's files unpacks nothing: the scratch space,
    /// where the stage would be unpacked, is made unusable and the rebuild still succeeds.
    @Test func cachedRunWithAStageBindUnpacksNothing() async throws {
        let (store, _) = try await runs.setUp("")
        let folder = try Scratch.files([
            "Dockerfile": "FROM localhost/busybox:test AS tools\nRUN echo tool > /tool\nFROM localhost/busybox:test\nRUN --mount=from=tools,target=/t cat /t/tool > /got\n"
        ], label: "mount-context")
        let first = try await build(store, folder)
        let scratch = StateDirectory(of: store).scratch
        try? FileManager.default.removeItem(at: scratch)
        try Data().write(to: scratch)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let lines = LineCollector()
        let second = try await build(store, folder) { $0.log = lines.add }
        #expect(second.manifest.digest == first.manifest.digest)
        #expect(lines.all.contains { $0.contains("Dockerfile:4 RUN: cached") }, "\(lines.all)")
    }

    @Test func mountsItCannotMakeAreRefusedWithTheLine() async throws {
        let (store, _) = try await runs.setUp("")
        for (line, message) in [
            ("RUN --mount=type=ssh true", "type=ssh mounts are not supported"),
            ("RUN --mount=type=cache,target=/c,colour=blue true", "type=cache mounts take no 'colour' field"),
            ("RUN --mount=type=tmpfs,target=/t,from=x true", "type=tmpfs mounts take no 'from' field"),
            ("RUN --mount=type=cache,target=/c,from=other true", "seeded with from=/source= is not supported"),
            ("RUN --mount=type=bind true", "type=bind mounts need target="),
            ("RUN --mount=type=bind,source=nothere,target=/x true", "source nothere does not exist"),
            ("RUN --mount=type=cache,target=relative true", "must be an absolute path"),
            ("RUN --mount=type=cache,target=/c,sharing=sometimes true", "sharing=sometimes: expected shared, private or locked"),
        ] {
            let error = await #expect(throws: DockerfileError.self, "\(line)") { try await build(store, try context(line + "\n")) }
            #expect(error?.location.line == 2)
            #expect(error?.description.contains(message) == true, "\(line): \(error.map { "\($0)" } ?? "")")
        }
    }
}
