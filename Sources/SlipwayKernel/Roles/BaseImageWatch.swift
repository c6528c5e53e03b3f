/// What a `base_image` trigger checks against, given by the host for one task at a time: the
/// bases its last image was built on (as recorded in the dependency graph), that image's
/// platform, and a way to ask a registry what a reference names now.
///
/// The host shares one ``currentDigest`` among the checks of a poll cycle, so one base behind
/// many tasks costs one registry request.
public struct BaseImageWatch: Sendable {
    public var runtimeBase: BaseImage?
    public var buildTimeBases: [BaseImage]
    /// `os/arch[/variant]` of the recorded image.
    public var platform: String
    /// The digest `reference` names now for `platform` (the platform's manifest when the
    /// reference is an index); nil when the registry no longer has it.
    public var currentDigest: @Sendable (_ reference: String, _ platform: String) async throws -> String?

    public init(
        runtimeBase: BaseImage?, buildTimeBases: [BaseImage], platform: String,
        currentDigest: @escaping @Sendable (_ reference: String, _ platform: String) async throws -> String?
    ) {
        self.runtimeBase = runtimeBase
        self.buildTimeBases = buildTimeBases
        self.platform = platform
        self.currentDigest = currentDigest
    }
}

public enum BaseImageWatchService: HostServiceKey { public typealias Value = BaseImageWatch }
