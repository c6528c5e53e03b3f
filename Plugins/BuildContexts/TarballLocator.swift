/// A remote tarball build context: an http(s) URL of a `.tar`, `.tar.gz`/`.tgz`, `.tar.zst`
/// or `.tar.xz` file.
public enum TarballLocator {
    static let suffixes = [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.xz", ".tar.bz2"]

    public static func isTarball(_ url: String) -> Bool {
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else { return false }
        let path = url.split(separator: "?", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        return suffixes.contains { path.hasSuffix($0) }
    }
}
