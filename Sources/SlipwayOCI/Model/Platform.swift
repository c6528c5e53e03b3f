/// An OS and CPU an image runs on (`linux/amd64`, `linux/arm64/v8`).
public struct Platform: Sendable, Hashable, Codable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var variant: String?
    public var osVersion: String?
    public var osFeatures: [String]?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    public init(architecture: String, os: String, variant: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }

    /// Parses `os/arch[/variant]`.
    /// - Throws: ``OCIError`` for anything else.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw OCIError.invalidInput("invalid platform '\(text)': expected os/arch or os/arch/variant (linux/arm64)")
        }
        self.init(architecture: parts[1], os: parts[0], variant: parts.count == 3 ? parts[2] : nil)
    }

    /// The platform of the machine we run on.
    public static var host: Platform {
        #if arch(arm64)
        Platform(architecture: "arm64", os: "linux", variant: "v8")
        #else
        Platform(architecture: "amd64", os: "linux")
        #endif
    }

    /// Whether an index entry for `candidate` satisfies a request for `self`. A request without
    /// a variant accepts any; `arm64` treats a missing variant as `v8`.
    public func matches(_ candidate: Platform) -> Bool {
        guard os == candidate.os, architecture == candidate.architecture else { return false }
        guard let variant else { return true }
        let other = candidate.variant ?? (architecture == "arm64" ? "v8" : nil)
        return variant == other
    }

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }
}
