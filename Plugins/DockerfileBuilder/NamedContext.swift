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
