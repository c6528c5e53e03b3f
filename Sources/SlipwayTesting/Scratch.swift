public import Foundation
public import SlipwayOCI

/// Throwaway files and folders for tests, in one folder per test process under the system
/// temporary directory (`slipway-tests-<pid>`), removed when the process exits: a full run
/// writes gigabytes (Debian roots, stores, layer caches), and a developer machine must not
/// fill up after a few runs. `SLIPWAY_KEEP_SCRATCH=1` keeps it, to look at after a failure.
public enum Scratch {
    /// The process's scratch folder, made (and its removal at exit arranged) on first use.
    public static let root: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        if ProcessInfo.processInfo.environment["SLIPWAY_KEEP_SCRATCH"] == nil {
            atexit { Scratch.removeRoot() }
        }
        return url
    }()

    private static func removeRoot() {
        try? FileManager.default.removeItem(at: root)
    }

    /// A new, empty folder named `slipway-<label>-<uuid>`.
    public static func directory(_ label: String) throws -> URL {
        let url = location(label)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A fresh path (not created) named `slipway-<label>-<uuid>`, for tools that create it.
    public static func location(_ label: String) -> URL {
        root.appendingPathComponent("slipway-\(label)-\(UUID().uuidString)")
    }

    /// A folder holding `files` (relative path → text).
    public static func files(_ files: [String: String], label: String = "files") throws -> URL {
        let folder = try directory(label)
        for (name, text) in files {
            let file = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            // Not atomically: Foundation leaves the folder of each atomic write behind in /tmp.
            try text.write(to: file, atomically: false, encoding: .utf8)
        }
        return folder
    }

    /// `text` as `recipe.lua` in a fresh folder; returns the file's path.
    public static func recipe(_ text: String) throws -> String {
        try files(["recipe.lua": text], label: "recipe").appendingPathComponent("recipe.lua").path
    }

    /// A fresh, empty content store, in a state folder of its own (`<folder>/oci`), so the
    /// layer cache and container bundles kept beside it are the test's own too.
    public static func store(_ label: String = "store") throws -> ContentStore {
        try ContentStore(root: location(label).appendingPathComponent("oci"))
    }
}
