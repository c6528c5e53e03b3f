import Foundation
import Glibc
import SlipwayOCI
import SlipwayTesting
import Testing

struct LayerWriterTests {
    func temporary(_ name: String) -> URL { Scratch.location(name) }

    /// A small tree with every kind of entry a COPY layer has.
    func sampleTree() throws -> URL {
        let root = temporary("tree")
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("app/bin"), withIntermediateDirectories: true)
        try Data("#!/bin/sh\necho hi\n".utf8).write(to: root.appendingPathComponent("app/bin/run"))
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.appendingPathComponent("app/bin/run").path)
        try Data(repeating: 0x61, count: 300_000).write(to: root.appendingPathComponent("app/data.bin"))
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("app/current").path, withDestinationPath: "bin/run")
        try fm.linkItem(at: root.appendingPathComponent("app/data.bin"), to: root.appendingPathComponent("app/data-link.bin"))
        return root
    }

    @Test(arguments: LayerCompression.allCases)
    func sameInputGivesTheSameDigestsAcrossStores(compression: LayerCompression) throws {
        let tree = try sampleTree()
        let entries = try DirectoryScanner.entries(of: tree)
        let writer = LayerWriter(options: .init(compression: compression))
        let first = try writer.write(entries, into: try ContentStore(root: temporary("store-a")))
        // A second copy of the tree, touched now: mtimes are clamped, owners normalised.
        let second = try writer.write(try DirectoryScanner.entries(of: try sampleTree()), into: try ContentStore(root: temporary("store-b")))
        #expect(first == second)
        #expect(first.descriptor.mediaType == compression.mediaType)
        if compression == .none { #expect(first.diffID == first.descriptor.digest) }
    }

    /// Non-ASCII names (ca-certificates ships `NetLock_Arany_=Class_Gold=_Főtanúsítvány.pem`)
    /// used to crash libarchive 3.6's pax writer in the "C" locale.
    @Test func nonASCIINamesAreWrittenAndReadBack() throws {
        let tree = temporary("utf8-tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("café"), withIntermediateDirectories: true)
        try Data("cert\n".utf8).write(to: tree.appendingPathComponent("café/NetLock_Arany_=Class_Gold=_Főtanúsítvány.pem"))
        let store = try ContentStore(root: temporary("store"))
        let written = try LayerWriter(options: .init(compression: .gzip)).write(try DirectoryScanner.entries(of: tree), into: store)
        let root = temporary("root")
        try LayerExtractor().extract(store.blobURL(written.descriptor.digest), into: root, expectedDiffID: written.diffID)
        #expect(try String(contentsOf: root.appendingPathComponent("café/NetLock_Arany_=Class_Gold=_Főtanúsítvány.pem"), encoding: .utf8) == "cert\n")
    }

    /// A socket cannot go into a layer: the error names it by its path in the image, never by
    /// the host folder it sits in.
    @Test func aSocketIsRefusedByItsPathInTheImage() throws {
        let tree = temporary("socket-tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("run"), withIntermediateDirectories: true)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = tree.appendingPathComponent("run/app.sock").path
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in path.utf8CString.withUnsafeBytes { buffer.copyMemory(from: $0) } }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        let error = #expect(throws: OCIError.self) { try DirectoryScanner.entries(of: tree) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("/run/app.sock is a socket"))
        #expect(!"\(error.map { "\($0)" } ?? "")".contains(tree.path))
    }

    /// `cap_net_raw+ep` as `setcap` writes it (vfs_cap_data revision 2, little-endian).
    static let netRawCapability: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00] + [UInt8](repeating: 0, count: 12)

    func xattr(_ path: URL, _ name: String) -> [UInt8]? { ExtendedAttributes.value(name, of: path.path) }

    /// File capabilities and user xattrs go into the layer (SCHILY.xattr) and come back out;
    /// trusted.* (overlayfs's namespace) neither goes in nor comes out.
    @Test func capabilitiesAndUserXattrsRoundTrip() throws {
        try Prerequisites.requireRoot("setting security.capability and trusted.* attributes")
        let tree = temporary("xattr-tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("bin"), withIntermediateDirectories: true)
        let ping = tree.appendingPathComponent("bin/ping")
        try Data("#!/bin/sh\n".utf8).write(to: ping)
        #expect(ExtendedAttributes.set("security.capability", Self.netRawCapability, on: ping.path))
        #expect(ExtendedAttributes.set("user.origin", Array("iputils".utf8), on: ping.path))
        #expect(ExtendedAttributes.set("trusted.private", [0x78], on: ping.path))
        let store = try ContentStore(root: temporary("store"))
        let written = try LayerWriter(options: .init(compression: .none)).write(try DirectoryScanner.entries(of: tree), into: store)
        let tar = try Data(contentsOf: store.blobURL(written.descriptor.digest))
        #expect(tar.range(of: Data("SCHILY.xattr.security.capability".utf8)) != nil)
        #expect(tar.range(of: Data("trusted.private".utf8)) == nil)

        let root = temporary("xattr-root")
        try LayerExtractor().extract(store.blobURL(written.descriptor.digest), into: root, expectedDiffID: written.diffID)
        let extracted = root.appendingPathComponent("bin/ping")
        #expect(xattr(extracted, "security.capability") == Self.netRawCapability)
        #expect(xattr(extracted, "user.origin") == Array("iputils".utf8))
        #expect(xattr(extracted, "trusted.private") == nil)
    }

    /// A layer that brings overlayfs's own attributes (`trusted.overlay.*`) in its pax headers
    /// does not get them restored: they would steer the overlay a RUN sees.
    @Test func overlayAttributesFromALayerAreDropped() async throws {
        try Prerequisites.requireRoot("reading trusted.* attributes")
        // GNU tar (Debian-essential) writes the attributes as SCHILY.xattr pax records.
        let source = temporary("overlay-xattr-source")
        try FileManager.default.createDirectory(at: source.appendingPathComponent("dir"), withIntermediateDirectories: true)
        #expect(ExtendedAttributes.set("trusted.overlay.redirect", Array("/etc".utf8), on: source.appendingPathComponent("dir").path))
        #expect(ExtendedAttributes.set("user.kept", Array("yes".utf8), on: source.appendingPathComponent("dir").path))
        let archive = temporary("overlay-xattr.tar")
        try await Shell.run("tar", ["--xattrs", "--xattrs-include=*", "--format=posix", "-cf", archive.path, "-C", source.path, "dir"])
        #expect(try Data(contentsOf: archive).range(of: Data("SCHILY.xattr.trusted.overlay.redirect".utf8)) != nil)
        let root = temporary("overlay-xattr-root")
        try LayerExtractor(whiteouts: .overlay).extract(archive, into: root)
        #expect(xattr(root.appendingPathComponent("dir"), "trusted.overlay.redirect") == nil)
        #expect(xattr(root.appendingPathComponent("dir"), "user.kept") == Array("yes".utf8))
    }

    @Test(arguments: LayerCompression.allCases)
    func roundTripsThroughTheExtractor(compression: LayerCompression) throws {
        let store = try ContentStore(root: temporary("store"))
        let written = try LayerWriter(options: .init(compression: compression)).write(try DirectoryScanner.entries(of: try sampleTree()), into: store)
        let root = temporary("root")
        let report = try LayerExtractor().extract(store.blobURL(written.descriptor.digest), into: root)
        #expect(report.entries == 6)
        let run = root.appendingPathComponent("app/bin/run")
        #expect(try String(contentsOf: run, encoding: .utf8) == "#!/bin/sh\necho hi\n")
        #expect((try FileManager.default.attributesOfItem(atPath: run.path)[.posixPermissions] as? Int) == 0o755)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root.appendingPathComponent("app/current").path) == "bin/run")
        let original = try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent("app/data.bin").path)
        let link = try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent("app/data-link.bin").path)
        #expect(original[.systemFileNumber] as? Int == link[.systemFileNumber] as? Int)
        #expect((original[.size] as? Int) == 300_000)
        #expect(((original[.modificationDate] as? Date)?.timeIntervalSince1970) == 0)
    }

    @Test func diffIDMatchesTheUncompressedTar() async throws {
        let store = try ContentStore(root: temporary("store"))
        let written = try LayerWriter(options: .init(compression: .gzip)).write(try DirectoryScanner.entries(of: try sampleTree()), into: store)
        let uncompressed = try await Shell.data("gzip", ["-dc", store.blobURL(written.descriptor.digest).path])
        #expect(Digest.sha256(of: uncompressed) == written.diffID)
        #expect(Int64(uncompressed.count) == written.uncompressedSize)
        // GNU tar reads what we wrote.
        let listing = try await Shell.run("tar", ["-tzf", store.blobURL(written.descriptor.digest).path])
        #expect(listing.split(separator: "\n").sorted() == ["app/", "app/bin/", "app/bin/run", "app/current", "app/data-link.bin", "app/data.bin"])
    }

    @Test func whiteoutsAndOpaqueDirectoriesApplyToLowerLayers() throws {
        let store = try ContentStore(root: temporary("store"))
        let writer = LayerWriter(options: .init(compression: .gzip))
        let lower = try writer.write([
            LayerEntry(path: "etc", content: .directory, mode: 0o755),
            LayerEntry(path: "etc/keep", content: .bytes(Data("k".utf8)), mode: 0o644),
            LayerEntry(path: "etc/gone", content: .bytes(Data("g".utf8)), mode: 0o644),
            LayerEntry(path: "var", content: .directory, mode: 0o755),
            LayerEntry(path: "var/old", content: .bytes(Data("o".utf8)), mode: 0o644),
        ], into: store)
        let upper = try writer.write([
            LayerEntry.whiteout("etc/gone"), LayerEntry.opaque("var"),
            LayerEntry(path: "var/new", content: .bytes(Data("n".utf8)), mode: 0o644),
        ], into: store)
        let root = temporary("root")
        try LayerExtractor().extract(store.blobURL(lower.descriptor.digest), into: root)
        let report = try LayerExtractor().extract(store.blobURL(upper.descriptor.digest), into: root)
        #expect(report.whiteouts == 2)
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: root.appendingPathComponent("etc/keep").path))
        #expect(!fm.fileExists(atPath: root.appendingPathComponent("etc/gone").path))
        #expect(!fm.fileExists(atPath: root.appendingPathComponent("var/old").path))
        #expect(fm.fileExists(atPath: root.appendingPathComponent("var/new").path))
    }

    @Test func overlayWhiteoutDevicesBecomeWhiteoutEntries() throws {
        let upper = temporary("upper")
        try FileManager.default.createDirectory(at: upper, withIntermediateDirectories: true)
        guard mknod(upper.appendingPathComponent("deleted").path, S_IFCHR | 0o000, 0) == 0 else {
            Issue.record("mknod needs root: run the tests as root (make test does)")
            return
        }
        let entries = try DirectoryScanner.entries(of: upper)
        #expect(entries.map(\.path) == [".wh.deleted"])
    }
}

/// Hostile archives from Tests/Fixtures/Tarballs (made by Scripts/make-hostile-tarballs.py).
@Suite(.serialized)
struct LayerExtractorHostileTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/Tarballs")

    /// Extracts into `parent/root` and returns (error text, parent) so tests can check that
    /// nothing appeared beside the root.
    func extract(_ name: String, limits: LayerExtractor.Limits = .init()) -> (String?, URL) {
        let parent = Scratch.location("hostile")
        do {
            try LayerExtractor(limits: limits).extract(Self.fixtures.appendingPathComponent(name), into: parent.appendingPathComponent("root"))
            return (nil, parent)
        } catch {
            return (String(describing: error), parent)
        }
    }

    @Test(arguments: [
        ("dotdot.tar", "'../slipway-dotdot-escape.txt': '..' is not allowed"),
        ("dotdot-nested.tar", "'a/../../slipway-nested-escape.txt': '..' is not allowed"),
        ("absolute.tar", "'/tmp/slipway-absolute-escape.txt': absolute paths are not allowed"),
        ("symlink-escape.tar", "'evil/slipway-symlink-escape.txt': path goes through the symlink 'evil'"),
        ("symlink-relative-escape.tar", "'up/slipway-relative-escape.txt': path goes through the symlink 'up'"),
        ("hardlink-escape.tar", "'passwd': hardlink target '../../../../../../etc/passwd' leaves the root"),
        ("hardlink-through-symlink.tar", "'x': path goes through the symlink 'etc'"),
        ("device.tar", "'dev/null': device files are not allowed"),
        ("whiteout-through-symlink.tar", "'s/.wh.victim': path goes through the symlink 's'"),
    ])
    func hostileArchiveIsRefusedAndNothingEscapes(name: String, message: String) throws {
        let victim = URL(fileURLWithPath: "/tmp/slipway-victim-dir/victim")
        try FileManager.default.createDirectory(at: victim.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("still here".utf8).write(to: victim)
        let (error, parent) = extract(name)
        #expect(error?.contains(message) == true, "\(error ?? "no error")")
        // Nothing beside the root, nothing in /tmp, /etc/passwd untouched, the victim alive.
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path) == ["root"])
        for escaped in ["slipway-dotdot-escape.txt", "slipway-nested-escape.txt", "slipway-absolute-escape.txt", "slipway-symlink-escape.txt", "slipway-relative-escape.txt"] {
            #expect(!FileManager.default.fileExists(atPath: "/tmp/\(escaped)"))
        }
        #expect(FileManager.default.fileExists(atPath: victim.path))
        let passwd = try FileManager.default.attributesOfItem(atPath: "/etc/passwd")
        #expect((passwd[.referenceCount] as? Int) == 1)
    }

    @Test func decompressionBombStopsAtTheSizeLimit() {
        let (error, _) = extract("bomb.tar.gz", limits: .init(maxTotalBytes: 10 << 20))
        #expect(error?.contains("layer entry 'zeros': it unpacks to more than 10 MiB, the limit for one layer") == true)
    }

    @Test func tooManyEntriesStopAtTheEntryLimit() {
        let (error, _) = extract("many-entries.tar.gz", limits: .init(maxEntries: 1000))
        #expect(error?.contains("more than 1000 entries") == true)
    }

    @Test func devicesAreAllowedWhenAskedFor() {
        let (error, parent) = extract("device.tar", limits: .init(allowDevices: true))
        #expect(error == nil)
        #expect(FileManager.default.fileExists(atPath: parent.appendingPathComponent("root/dev/null").path))
    }

    @Test(arguments: ["gnu-dialect.tar", "ustar-dialect.tar"])
    func olderTarDialectsAreRead(name: String) {
        let (error, _) = extract(name)
        #expect(error == nil)
    }
}
