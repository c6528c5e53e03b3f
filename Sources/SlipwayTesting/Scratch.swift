public import Foundation
public import SlipwayOCI

/// Throwaway files and folders for tests, under the system temporary directory.
public enum Scratch {
    /// A new, empty folder named `slipway-<label>-<uuid>`.
    public static func directory(_ label: String) throws -> URL {
        let url = location(label)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A fresh path (not created) named `slipway-<label>-<uuid>`, for tools that create it.
    public static func location(_ label: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("slipway-\(label)-\(UUID().uuidString)")
    }

    /// A folder holding `files` (relative path → text).
    public static func files(_ files: [String: String], label: String = "files") throws -> URL {
        let folder = try directory(label)
        for (name, text) in files {
            let file = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
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
