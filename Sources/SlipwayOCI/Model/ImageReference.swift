/// An image reference in the standard grammar (`[registry/]repository[:tag][@digest]`), with
/// Docker's normalization: no registry means `docker.io`, and a single-component Docker Hub
/// name means `library/NAME`.
public struct ImageReference: Sendable, Hashable, Codable, CustomStringConvertible {
    public var registry: String
    public var repository: String
    public var tag: String?
    public var digest: Digest?

    public static let dockerHub = "docker.io"

    public init(registry: String, repository: String, tag: String? = nil, digest: Digest? = nil) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// - Throws: ``OCIError`` saying what is wrong (`repository name must be lowercase`...).
    public init(parsing text: String) throws {
        guard !text.isEmpty else { throw OCIError.invalidReference(text, "empty") }
        guard text.count <= 512, !text.contains(where: { $0.isWhitespace }) else {
            throw OCIError.invalidReference(text, "contains whitespace or is too long")
        }
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            digest = try Digest(parsing: String(rest[rest.index(after: at)...]))
            rest = rest[..<at]
        }
        var tag: String?
        // A tag follows the last ':' after the last '/' (a ':' before it is a registry port).
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let candidate = String(rest[rest.index(after: colon)...])
            guard Self.isValidTag(candidate) else {
                throw OCIError.invalidReference(text, "invalid tag '\(candidate)' (letters, digits, '_', '.', '-'; at most 128)")
            }
            tag = candidate
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var registry = Self.dockerHub
        if components.count > 1, let first = components.first,
            first.contains(".") || first.contains(":") || first == "localhost"
        {
            guard Self.isValidRegistry(first) else { throw OCIError.invalidReference(text, "invalid registry '\(first)'") }
            registry = first == "index.docker.io" ? Self.dockerHub : first
            components.removeFirst()
        }
        guard !components.isEmpty, components.allSatisfy({ !$0.isEmpty }) else {
            throw OCIError.invalidReference(text, "empty repository path component")
        }
        for component in components {
            if component.contains(where: { $0.isUppercase }) {
                throw OCIError.invalidReference(text, "repository name must be lowercase")
            }
            guard Self.isValidPathComponent(component) else {
                throw OCIError.invalidReference(text, "invalid repository path component '\(component)'")
            }
        }
        if registry == Self.dockerHub && components.count == 1 { components.insert("library", at: 0) }
        let repository = components.joined(separator: "/")
        guard registry.count + 1 + repository.count <= 255 else {
            throw OCIError.invalidReference(text, "repository name is longer than 255 characters")
        }
        self.init(registry: registry, repository: repository, tag: tag, digest: digest)
    }

    /// The tag or digest to fetch: the digest when present, else the tag, else `latest`.
    public var identifier: String { digest?.description ?? tag ?? "latest" }

    /// The same repository at another tag or digest.
    public func with(tag: String? = nil, digest: Digest? = nil) -> ImageReference {
        ImageReference(registry: registry, repository: repository, tag: tag, digest: digest)
    }

    /// The host to talk to: Docker Hub's API lives at `registry-1.docker.io`.
    public var apiHost: String { registry == Self.dockerHub ? "registry-1.docker.io" : registry }

    public var description: String {
        var text = "\(registry)/\(repository)"
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    static func isValidTag(_ tag: String) -> Bool {
        guard let first = tag.unicodeScalars.first, tag.count <= 128, isWord(first) else { return false }
        return tag.unicodeScalars.allSatisfy { isWord($0) || $0 == "." || $0 == "-" }
    }

    static func isValidPathComponent(_ component: String) -> Bool {
        // alphanumerics separated by '.', '_', '__' or runs of '-'.
        let scalars = Array(component.unicodeScalars)
        guard let first = scalars.first, let last = scalars.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        var index = 0
        while index < scalars.count {
            if isLowerAlnum(scalars[index]) {
                index += 1
                continue
            }
            var separator = ""
            while index < scalars.count, !isLowerAlnum(scalars[index]) {
                separator.unicodeScalars.append(scalars[index])
                index += 1
            }
            let valid = separator == "." || separator == "_" || separator == "__" || (!separator.isEmpty && separator.allSatisfy { $0 == "-" })
            guard valid else { return false }
        }
        return true
    }

    static func isValidRegistry(_ registry: String) -> Bool {
        var host = Substring(registry)
        if let colon = registry.lastIndex(of: ":"), !registry.hasSuffix("]") {
            let port = registry[registry.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy(\.isNumber), let number = Int(port), (1...65535).contains(number) else { return false }
            host = registry[..<colon]
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { return host.count > 2 }  // IPv6 literal
        return !host.isEmpty
            && host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                guard let first = label.unicodeScalars.first, let last = label.unicodeScalars.last else { return false }
                return isAlnum(first) && isAlnum(last) && label.unicodeScalars.allSatisfy { isAlnum($0) || $0 == "-" }
            }
    }

    private static func isLowerAlnum(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("0"..."9").contains(s) }
    private static func isAlnum(_ s: Unicode.Scalar) -> Bool { isLowerAlnum(s) || ("A"..."Z").contains(s) }
    private static func isWord(_ s: Unicode.Scalar) -> Bool { isAlnum(s) || s == "_" }
}
