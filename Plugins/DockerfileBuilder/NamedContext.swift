public import Foundation

/// What `--build-context NAME=…` puts in place of NAME for `FROM NAME`, `COPY --from=NAME` and
/// `RUN --mount=from=NAME` (BuildKit's named contexts): a folder's files, or an image.
public enum NamedContext: Sendable, Hashable {
    /// A folder (a local one, or a Git or tarball context fetched into one). `FROM NAME` starts
    /// the stage with its files in one layer; COPY --from and bind mounts read them.
    case folder(URL)
    /// An image reference (`docker-image://REF`), resolved and recorded like any base.
    case image(String)
}

extension NamedContext {
    /// `docker-image://REF`: the form of a named context that is an image.
    public static let imageScheme = "docker-image://"

    /// The image a named-context value names (`docker-image://REF` → `REF`), or nil.
    public static func imageReference(in value: String) -> String? {
        value.hasPrefix(imageScheme) ? String(value.dropFirst(imageScheme.count)) : nil
    }

    /// Why a value BuildKit would take cannot be a named context here (`oci-layout://`,
    /// `target:`, `input:`), or nil when it can.
    public static func refusal(of value: String) -> String? {
        guard let scheme = ["oci-layout://", "target:", "input:"].first(where: value.hasPrefix) else { return nil }
        return "\(scheme) contexts are not supported (give a folder, a Git or tarball URL, or docker-image://REF)"
    }
}
