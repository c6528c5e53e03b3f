import Foundation
public import SlipwayKernel

/// A Git build context as Docker writes it: `URL#ref:subdir`, where the ref is a branch, a tag,
/// a commit sha or `pull/N/head`, and the subdir is a folder of the repository. Everything is
/// checked here, before any of it reaches `git`: nothing may start with `-` (it would be read
/// as an option), and the subdir may not climb out of the checkout.
public struct GitLocator: Sendable, Hashable, CustomStringConvertible {
    public var url: String
    public var ref: String?
    public var subdirectory: String?

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public init(parsing text: String) throws {
        var rest = text
        var fragment: Substring?
        if let hash = text.firstIndex(of: "#") {
            rest = String(text[..<hash])
            fragment = text[text.index(after: hash)...]
        }
        guard Self.looksLikeGit(rest) else {
            throw Invalid(description: "'\(Self.redacted(rest))' is not a Git URL (https://…, ssh://…, git://…, file://… or user@host:path)")
        }
        guard !rest.hasPrefix("-"), !rest.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw Invalid(description: "refusing the Git URL '\(Self.redacted(rest))': it starts with '-' or holds control characters")
        }
        url = rest
        if let fragment {
            let parts = fragment.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if let ref = parts.first, !ref.isEmpty {
                try Self.validate(ref: ref)
                self.ref = ref
            }
            if parts.count == 2, !parts[1].isEmpty {
                subdirectory = try Self.validate(subdirectory: parts[1])
            }
        }
    }

    /// Whether `text` names a Git repository rather than a folder or a tarball.
    public static func looksLikeGit(_ text: String) -> Bool {
        let base = text.split(separator: "#", maxSplits: 1).first.map(String.init) ?? text
        for scheme in ["git://", "ssh://", "file://", "git+ssh://"] where base.hasPrefix(scheme) { return true }
        if base.hasPrefix("https://") || base.hasPrefix("http://") {
            return !TarballLocator.isTarball(base)
        }
        // scp-like: user@host:path
        if let at = base.firstIndex(of: "@"), let colon = base.firstIndex(of: ":"), at < colon, !base.contains("://") { return true }
        return false
    }

    /// A commit sha (7 to 64 hex digits).
    public var isCommit: Bool {
        guard let ref else { return false }
        return (7...64).contains(ref.count) && ref.allSatisfy(\.isHexDigit)
    }

    /// The locator as it is to be used (credentials in the URL included): `URL#ref:subdir`.
    public var text: String {
        url + (ref == nil && subdirectory == nil ? "" : "#") + (ref ?? "") + (subdirectory.map { ":" + $0 } ?? "")
    }

    /// The same repository and folder at another ref (a commit sha a trigger saw).
    public func at(ref newRef: String) throws -> GitLocator {
        try Self.validate(ref: newRef)
        var copy = self
        copy.ref = newRef
        return copy
    }

    /// The locator with any password or token in the URL replaced by `***`.
    public var description: String {
        Self.redacted(url) + (ref.map { "#\($0)" } ?? "") + (subdirectory.map { (ref == nil ? "#" : "") + ":\($0)" } ?? "")
    }

    /// `https://user:secret@host/x` → `https://user:***@host/x`; `https://token@host` → `https://***@host`.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let credentials = url[scheme.upperBound..<at]
        guard !credentials.contains("/") else { return url }
        let user = credentials.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        let shown = credentials.contains(":") ? "\(user):***" : "***"
        return String(url[..<scheme.upperBound]) + shown + String(url[at...])
    }

    static func validate(ref: String) throws {
        let allowed = ref.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._/-".contains($0)) }
        guard !ref.hasPrefix("-"), allowed, !ref.contains(".."), !ref.hasPrefix("/"), !ref.hasSuffix("/"), !ref.hasSuffix(".lock") else {
            throw Invalid(description: "refusing the Git ref '\(ref)': refs are branch or tag names, commit shas or pull/N/head, and never start with '-'")
        }
    }

    static func validate(subdirectory: String) throws -> String {
        let parts = subdirectory.split(separator: "/").filter { $0 != "." }
        guard !subdirectory.hasPrefix("/"), !subdirectory.hasPrefix("-"), !parts.contains("..") else {
            throw Invalid(description: "refusing the context subdirectory '\(subdirectory)': it must be a relative path inside the repository")
        }
        return parts.joined(separator: "/")
    }
}

extension GitLocator.Invalid: CategorizedError {
    public var category: ErrorCategory { .invalidInput }
}
