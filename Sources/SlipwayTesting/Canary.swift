public import Foundation

/// A folder on the host that no build may read from or write to: it holds one secret file with
/// a unique token. Hostile-input tests point symlinks at it, then check that the token never
/// reached an image or the state directory, and that nothing was added to the folder.
public struct Canary: Sendable {
    public let folder: URL
    /// A string found nowhere else: its presence anywhere means the secret was read.
    public let token: String

    public init(_ label: String = "canary") throws {
        folder = try Scratch.directory(label)
        token = "canary-\(UUID().uuidString)"
        try Data("\(token)\n".utf8).write(to: secret)
    }

    public var secret: URL { folder.appendingPathComponent("secret") }

    /// Whether the folder holds exactly what it was made with.
    public var isUntouched: Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names == ["secret"] && (try? String(contentsOf: secret, encoding: .utf8)) == "\(token)\n"
    }

    /// Whether `token` appears in any file under `directory`, compressed blobs (gzip, zstd)
    /// included: a content store, a state directory, an OCI layout pulled by skopeo.
    public static func token(_ token: String, appearsUnder directory: URL) async throws -> Bool {
        let script = """
            find "$1" -type f | while read -r f; do
              case "$(head -c 4 "$f" | od -An -tx1 | tr -d ' ')" in
                1f8b*) zcat -- "$f" 2>/dev/null ;;
                28b52ffd) zstd -dc -- "$f" 2>/dev/null ;;
                *) cat -- "$f" ;;
              esac
            done | grep -c -a -F -- "$2" || true
            """
        let count = try await Shell.run("/bin/sh", ["-c", script, "sh", directory.path, token])
        return (Int(count.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0
    }
}
