import SlipwayOCI
import Testing

struct ImageReferenceTests {
    @Test(arguments: [
        ("alpine", "docker.io/library/alpine", "latest"),
        ("alpine:3.20", "docker.io/library/alpine:3.20", "3.20"),
        ("team/app", "docker.io/team/app", "latest"),
        ("index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "1"),
        ("localhost:5000/app:1", "localhost:5000/app:1", "1"),
        ("localhost/app", "localhost/app", "latest"),
        ("127.0.0.1:5000/a/b/c:v1.2-rc_3", "127.0.0.1:5000/a/b/c:v1.2-rc_3", "v1.2-rc_3"),
        ("[::1]:5000/app:x", "[::1]:5000/app:x", "x"),
        ("registry.example.com/my_app__x/web-app.v2:t", "registry.example.com/my_app__x/web-app.v2:t", "t"),
    ])
    func parsesAndNormalizes(text: String, normalized: String, identifier: String) throws {
        let reference = try ImageReference(parsing: text)
        #expect(reference.description == normalized)
        #expect(reference.identifier == identifier)
    }

    @Test func tagAndDigestTogether() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let reference = try ImageReference(parsing: "ghcr.io/org/app:1.0@\(digest)")
        #expect(reference.registry == "ghcr.io")
        #expect(reference.repository == "org/app")
        #expect(reference.tag == "1.0")
        #expect(reference.identifier == digest)
    }

    @Test(arguments: [
        ("", "empty"), ("ghcr.io/Org/app", "must be lowercase"), ("app:", "invalid tag"), ("app:-x", "invalid tag"),
        ("a//b", "empty repository path"), ("-a", "invalid repository path component"), ("app@sha256:123", "invalid digest"),
        ("app:tag with space", "whitespace"), ("a--b_-c", "invalid repository path component"), ("host:99999/app", "invalid registry"),
    ])
    func rejectsMalformed(text: String, reason: String) {
        #expect {
            try ImageReference(parsing: text)
        } throws: { error in
            String(describing: error).contains(reason)
        }
    }

    @Test func dockerHubAPIHost() throws {
        #expect(try ImageReference(parsing: "alpine").apiHost == "registry-1.docker.io")
        #expect(try ImageReference(parsing: "localhost:5000/a").apiHost == "localhost:5000")
    }
}

struct DigestAndPlatformTests {
    @Test func digestOfEmptyInputIsTheKnownValue() {
        #expect(Digest.sha256(of: [UInt8]()).description == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func streamingHashEqualsOneShot() {
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hasher = DigestHasher()
        for chunk in stride(from: 0, to: data.count, by: 777) { hasher.update(data[chunk..<min(chunk + 777, data.count)]) }
        #expect(hasher.finalize() == Digest.sha256(of: data))
        #expect(hasher.count == 100_000)
    }

    @Test(arguments: ["sha256:abc", "md5:" + String(repeating: "0", count: 32), "sha256:" + String(repeating: "G", count: 64), "nocolon"])
    func rejectsBadDigests(text: String) {
        #expect(throws: OCIError.self) { try Digest(parsing: text) }
    }

    @Test func selectsThePlatformFromAnIndex() throws {
        func entry(_ platform: String, _ byte: String) throws -> Descriptor {
            Descriptor(
                mediaType: MediaType.ociManifest, digest: try Digest(parsing: "sha256:" + String(repeating: byte, count: 64)), size: 1,
                platform: try Platform(parsing: platform))
        }
        let index = ImageIndex(manifests: [try entry("linux/amd64", "a"), try entry("linux/arm64/v8", "b"), try entry("linux/arm/v7", "c")])
        #expect(index.manifest(for: try Platform(parsing: "linux/arm64"))?.digest.hex.first == "b")
        #expect(index.manifest(for: try Platform(parsing: "linux/arm/v7"))?.digest.hex.first == "c")
        #expect(index.manifest(for: try Platform(parsing: "linux/arm/v6")) == nil)
        #expect(index.manifest(for: try Platform(parsing: "linux/amd64"))?.digest.hex.first == "a")
        #expect(throws: OCIError.self) { try Platform(parsing: "linux") }
    }

    @Test func dockerAndOCIManifestsConvert() throws {
        let config = Descriptor(mediaType: MediaType.ociConfig, digest: Digest.sha256(of: [1]), size: 1)
        let layer = Descriptor(mediaType: MediaType.ociLayerGzip, digest: Digest.sha256(of: [2]), size: 1)
        let docker = ImageManifest(config: config, layers: [layer]).converted(toDocker: true)
        #expect(docker.mediaType == MediaType.dockerManifest)
        #expect(docker.config.mediaType == MediaType.dockerConfig)
        #expect(docker.layers[0].mediaType == MediaType.dockerLayerGzip)
        #expect(docker.converted(toDocker: false) == ImageManifest(config: config, layers: [layer]))
    }
}
