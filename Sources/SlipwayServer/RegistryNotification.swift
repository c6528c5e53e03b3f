import Foundation
import SlipwayOCI

/// What a registry's push notification names: the references (`host/repo:tag`) that may now
/// name something new. Only hints — the supervisor confirms each with a manifest HEAD, so a
/// forged notification costs a request, never a build.
///
/// Read: CNCF Distribution envelopes (`{"events": [...]}`, 2.x and 3.x), an ACR webhook (one
/// event, no envelope), Harbor (`PUSH_ARTIFACT`, default and CloudEvents formats) and Docker Hub
/// (`push_data` + `repository.repo_name`).
enum RegistryNotification {
    /// The largest body read.
    static let maximumBody = 1 << 20

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    /// - Throws: ``Invalid`` when the body is not JSON or not a notification of a known shape.
    static func references(in body: Data) throws -> [String] {
        guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw Invalid(description: "the body is not a JSON object")
        }
        var found: [String] = []
        if let events = json["events"] as? [[String: Any]] {
            found = events.compactMap(distributionReference)
        } else if json["action"] != nil, json["target"] != nil {
            found = distributionReference(json).map { [$0] } ?? []
        } else if let type = json["type"] as? String, type == "PUSH_ARTIFACT" || type == "harbor.artifact.pushed" {
            let data = (json["event_data"] ?? json["data"]) as? [String: Any]
            let resources = data?["resources"] as? [[String: Any]] ?? []
            found = resources.compactMap { $0["resource_url"] as? String }.filter { !$0.contains("@") }
        } else if let push = json["push_data"] as? [String: Any], let repository = json["repository"] as? [String: Any] {
            if let tag = push["tag"] as? String, let name = repository["repo_name"] as? String { found = ["docker.io/\(name):\(tag)"] }
        } else {
            throw Invalid(description: "not a registry notification Slipway reads (Distribution, ACR, Harbor, Docker Hub)")
        }
        // One spelling per image, as recorded bases are spelled.
        return Array(Set(found.compactMap { try? ImageReference(parsing: $0).description })).sorted()
    }

    /// A push of a manifest or index by tag; blob events and pushes by digest name no tag.
    private static func distributionReference(_ event: [String: Any]) -> String? {
        guard event["action"] as? String == "push", let target = event["target"] as? [String: Any],
            let repository = target["repository"] as? String, let tag = target["tag"] as? String, !tag.isEmpty,
            let mediaType = target["mediaType"] as? String, MediaType.isManifest(mediaType) || MediaType.isIndex(mediaType),
            let host = (event["request"] as? [String: Any])?["host"] as? String, !host.isEmpty
        else { return nil }
        return "\(host)/\(repository):\(tag)"
    }
}
