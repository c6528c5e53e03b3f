/// Sends an image from the local store to a destination (a registry, an OCI layout, a tarball).
/// The push is the only network side effect of a build, and it is its own step.
public protocol Publisher: Sendable {
    func publish(digest: String, in context: StepContext) async throws -> PublishResult
}

/// Where an image went.
public struct PublishResult: Sendable, Hashable, Codable {
    /// Destination references (`registry/repo:tag`) with the digest each now points to.
    public var destinations: [String: String]

    public init(destinations: [String: String]) { self.destinations = destinations }
}
