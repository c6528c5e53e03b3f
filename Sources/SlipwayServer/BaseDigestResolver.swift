import Foundation
public import SlipwayOCI

/// Asks a registry what a base reference names now, for one platform: one manifest HEAD (and,
/// for an index, one GET of the index) per distinct reference in a check cycle, however many
/// tasks are built on it. A new resolver is made for each cycle, so nothing goes stale.
public actor BaseDigestResolver {
    private let client: RegistryClient
    private var answers: [String: Task<String?, any Error>] = [:]
    /// Registry requests made, for the note's "requests per poll cycle".
    public private(set) var requests = 0

    public init(client: RegistryClient) {
        self.client = client
    }

    /// The digest `reference` names for `platform` (the platform's manifest when it is an
    /// index); nil when the registry has no such tag or the index lacks the platform.
    public func digest(of reference: String, platform: String) async throws -> String? {
        let key = reference + "|" + platform
        if let answer = answers[key] { return try await answer.value }
        let answer = Task { try await resolve(reference, platform: platform) }
        answers[key] = answer
        return try await answer.value
    }

    private func resolve(_ text: String, platform: String) async throws -> String? {
        let reference = try ImageReference(parsing: text)
        requests += 1
        guard let head = try await client.headManifest(reference) else { return nil }
        guard MediaType.isIndex(head.mediaType) else { return head.digest.description }
        requests += 1
        let fetched = try await client.manifest(reference.with(digest: head.digest))
        let index = try CanonicalJSON.decode(ImageIndex.self, from: fetched.data, what: "index \(reference)")
        let wanted = platform.isEmpty ? Platform.host : try Platform(parsing: platform)
        return index.manifest(for: wanted)?.digest.description
    }
}
