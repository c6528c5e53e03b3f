import SlipwayDockerfile
import SlipwayKernel
import SlipwayOCI

/// Finds a stage's base image for the platform asked for: in the store when a build or pull
/// already put that platform's image there, else pulled from its registry (which picks the
/// platform from an index). Either way the digest it resolved to is what the report records.
struct BaseResolver: Sendable {
    let store: ContentStore
    let registry: RegistryClient
    /// Ask the registry even when the store has the tag (`build { pull = true }`, and every
    /// build `slipway serve` runs): a base that moved is then built on as it is now.
    var pull = false

    /// - Throws: the FROM instruction's ``DockerfileError`` naming the reference and registry,
    ///   or saying that the stored image is for another platform and the registry has none.
    func resolve(_ reference: ImageReference, platform: Platform, for from: Instruction) async throws -> Descriptor {
        let local = try store.taggedImage(reference)
        let localPlatform = local?.platform
        if !pull, let local, let localPlatform, platform.matches(localPlatform) { return local.descriptor }
        do {
            return try await registry.pull(reference, platform: platform, into: store).descriptor
        } catch {
            if let localPlatform {
                throw from.failure(
                    "base image \(reference) is \(localPlatform) in the store, not \(platform), and \(reference.registry) has no \(platform) image",
                    cause: error)
            }
            throw from.failure("base image \(reference) is not available from \(reference.registry)", cause: error)
        }
    }
}
