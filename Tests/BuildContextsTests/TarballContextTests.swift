import BuildContexts
import Foundation
import SlipwayKernel
import SlipwayTesting
import Testing

/// Tarball contexts over a real HTTP server on loopback: compressed archives unpack, hostile
/// ones are refused with nothing written outside, and an oversized download is stopped.
@Suite(.serialized)
struct TarballContextTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/Tarballs")

    /// Serves `files` by name; `/endless.tar` streams without end (no Content-Length).
    func serve(_ files: [String: Data]) async throws -> LoopbackHTTPServer {
        try await LoopbackHTTPServer.start { request in
            let name = String(request.uri.dropFirst())
            guard let data = files[name] else { return .init(status: 404) }
            return .init(status: 200, body: data)
        }
    }

    @Test func compressedTarballsUnpack() async throws {
        let tar = try OCITestImages.tarball(["Dockerfile": "FROM scratch\nCOPY . /\n", "site/index.html": "<h1>hi</h1>\n"])
        let gz = try await Shell.data("gzip", ["-c"], input: tar)
        let zst = try await Shell.data("zstd", ["-q", "-c"], input: tar)
        let xz = try await Shell.data("xz", ["-c"], input: tar)
        let server = try await serve(["ctx.tar": tar, "ctx.tar.gz": gz, "ctx.tgz": gz, "ctx.tar.zst": zst, "ctx.tar.xz": xz])
        defer { server.stop() }
        for name in ["ctx.tar", "ctx.tar.gz", "ctx.tgz", "ctx.tar.zst", "ctx.tar.xz"] {
            let url = "http://127.0.0.1:\(server.port)/\(name)"
            let context = try await ContextLocation(parsing: url).materialize(scratch: try Scratch.directory("tarball"))
            #expect(try String(contentsOfFile: context.directory + "/site/index.html", encoding: .utf8) == "<h1>hi</h1>\n", "\(name)")
            #expect(context.facts["url"] == url)
            #expect(context.facts["digest"]?.hasPrefix("sha256:") == true)
        }
    }

    @Test(arguments: [
        ("dotdot.tar", "'..' is not allowed"),
        ("absolute.tar", "absolute paths are not allowed"),
        ("symlink-escape.tar", "path goes through the symlink 'evil'"),
        ("hardlink-escape.tar", "leaves the root"),
        ("device.tar", "device files are not allowed"),
    ])
    func hostileTarballsAreRefusedAndNothingEscapes(name: String, message: String) async throws {
        let server = try await serve([name: try Data(contentsOf: Self.fixtures.appendingPathComponent(name))])
        defer { server.stop() }
        let scratch = try Scratch.directory("tarball-hostile")
        let error = await #expect(throws: TarballCheckout.Failure.self) {
            try await ContextLocation(parsing: "http://127.0.0.1:\(server.port)/\(name)").materialize(scratch: scratch)
        }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
        // Only the context folder (and no leftover download) beside it; nothing in /tmp.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["context"])
        for escaped in ["slipway-dotdot-escape.txt", "slipway-absolute-escape.txt", "slipway-symlink-escape.txt"] {
            #expect(!FileManager.default.fileExists(atPath: "/tmp/\(escaped)"))
        }
    }

    @Test func aDecompressionBombStopsAtTheUnpackedLimit() async throws {
        let server = try await serve(["bomb.tar.gz": try Data(contentsOf: Self.fixtures.appendingPathComponent("bomb.tar.gz"))])
        defer { server.stop() }
        let error = await #expect(throws: TarballCheckout.Failure.self) {
            try await TarballCheckout(url: "http://127.0.0.1:\(server.port)/bomb.tar.gz", limit: 1 << 20)
                .materialize(into: try Scratch.directory("tarball-bomb").appendingPathComponent("context"))
        }
        #expect(error?.description.contains("it unpacks to more than 8 MiB") == true, "\(error?.description ?? "")")
    }

    @Test func anOversizedDownloadIsStopped() async throws {
        let big = Data(count: 3 << 20)
        let server = try await serve(["big.tar": big])
        defer { server.stop() }
        let error = await #expect(throws: TarballCheckout.Failure.self) {
            try await TarballCheckout(url: "http://127.0.0.1:\(server.port)/big.tar", limit: 1 << 20)
                .materialize(into: try Scratch.directory("tarball-big").appendingPathComponent("context"))
        }
        #expect(error?.description.contains("more than the limit of 1048576") == true, "\(error?.description ?? "")")
    }

    /// No Content-Length: the limit is enforced on the bytes as they stream in.
    @Test func anOversizedStreamIsCutOff() async throws {
        let server = try await LoopbackHTTPServer.start { _ in
            .init(status: 200, headers: [("Transfer-Encoding", "chunked")], body: Data(count: 3 << 20))
        }
        defer { server.stop() }
        let scratch = try Scratch.directory("tarball-stream")
        let error = await #expect(throws: TarballCheckout.Failure.self) {
            try await TarballCheckout(url: "http://127.0.0.1:\(server.port)/stream.tar", limit: 1 << 20).materialize(into: scratch.appendingPathComponent("context"))
        }
        #expect(error?.description.contains("is larger than the limit of 1048576 bytes; download stopped") == true, "\(error?.description ?? "")")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)  // the partial download is gone
    }

    @Test func aMissingTarballNamesTheURLAndStatus() async throws {
        let server = try await serve([:])
        defer { server.stop() }
        let error = await #expect(throws: TarballCheckout.Failure.self) {
            try await ContextLocation(parsing: "http://127.0.0.1:\(server.port)/gone.tar.gz").materialize(scratch: try Scratch.directory("tarball-404"))
        }
        #expect(error?.description == "cannot download http://127.0.0.1:\(server.port)/gone.tar.gz: HTTP 404")
    }
}
