import SlipwayDockerfile
import SlipwayKernel
import SlipwayOCI

/// Finds a stage's base image: in the store when a build or pull already put it there, else
/// pulled from its registry. Either way the digest it resolved to is what the report records.
struct BaseResolver: Sendable {
    let store: ContentStore
    let registry: RegistryClient

    /// - Throws: the FROM instruction's ``DockerfileError`` naming the reference and registry.
    func resolve(_ reference: ImageReference, platform: Platform, for from: Instruction) async throws -> Descriptor {
        if let local = try store.resolve(reference.description) { return local }
        do {
            return try await registry.pull(reference, platform: platform, into: store).descriptor
        } catch {
            throw from.failure("base image \(reference) is not available from \(reference.registry): \(error)")
        }
    }
}
