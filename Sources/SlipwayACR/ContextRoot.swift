import Foundation

/// Where a stored task's relative build contexts are, as `az acr task create --context` gives
/// it: a folder, or a Git repository at one ref (`URL#ref` or `URL#ref:subdir`). `slipway run`
/// has none (relative contexts are where it starts); a stored task runs in no such place, so its
/// `build … .` means the task's source at the commit being built.
public struct ContextRoot: Sendable, Hashable {
    public let locator: String

    public init(_ locator: String) {
        self.locator = locator
    }

    /// Whether a build step's context is relative to the root rather than a place of its own.
    static func isRelative(_ context: String) -> Bool {
        if context.hasPrefix("/") || context.contains("://") || context.hasPrefix("workspace:") || context == "-" { return false }
        // scp-like Git (user@host:path)
        if let at = context.firstIndex(of: "@"), let colon = context.firstIndex(of: ":"), at < colon { return false }
        return true
    }

    /// `relative` inside the root; `nil` when it climbs out of it.
    func resolve(_ relative: String) -> String? {
        let isGit = locator.contains("://") || locator.contains("@")
        var base = locator
        var inner = ""
        if isGit, let hash = locator.firstIndex(of: "#") {
            base = String(locator[..<hash])
            let fragment = locator[locator.index(after: hash)...]
            let parts = fragment.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            base += "#" + parts[0]
            if parts.count == 2 { inner = String(parts[1]) }
        }
        var components: [Substring] = []
        for part in (inner + "/" + relative).split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                guard !components.isEmpty else { return nil }
                components.removeLast()
            default: components.append(part)
            }
        }
        let path = components.joined(separator: "/")
        if isGit {
            guard !path.isEmpty else { return base }
            return base + (base.contains("#") ? ":" : "#:") + path
        }
        guard !path.isEmpty else { return base }
        return base.hasSuffix("/") ? base + path : base + "/" + path
    }
}
