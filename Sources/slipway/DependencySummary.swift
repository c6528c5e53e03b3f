import SlipwayEngine
import SlipwayKernel
import SlipwayOCI

/// What acb prints at the end of a task run — "The following dependencies were found:" and,
/// per image built, its runtime base, its build-time bases and the Git head it was built from —
/// in acb's shape, so scripts that read it keep working.
enum DependencySummary {
    static func text(for report: RunReport) -> String {
        var entries: [String] = []
        for step in report.steps where step.kind == "build" && step.status == .succeeded {
            guard let fields = step.output?.fields, case .string(let digest)? = fields["digest"] else { continue }
            let tags: [String] = {
                guard case .array(let items)? = fields["tags"] else { return [] }
                return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
            }()
            var entry = "- image:\n" + image(tags.first, digest: digest, indent: "    ")
            if let base = base(fields["report"]?["runtime_base"]) {
                entry += "  runtime-dependency:\n" + image(base.reference, digest: base.digest, indent: "    ")
            }
            let buildTime: [(reference: String, digest: String)] = {
                guard case .array(let items)? = fields["report"]?["build_time_bases"] else { return [] }
                return items.compactMap(base)
            }()
            if !buildTime.isEmpty {
                entry += "  buildtime-dependency:\n"
                for base in buildTime {
                    let lines = image(base.reference, digest: base.digest, indent: "    ")
                    entry += "  - " + lines.dropFirst(4)
                }
            }
            if case .string(let commit)? = fields["context"]?["commit"] {
                entry += "  git:\n    git-head-revision: \(commit)\n"
            }
            entries.append(entry)
        }
        guard !entries.isEmpty else { return "" }
        return "The following dependencies were found:\n" + entries.joined()
    }

    private static func base(_ value: ConfigValue?) -> (reference: String, digest: String)? {
        guard case .string(let reference)? = value?["reference"], case .string(let digest)? = value?["digest"] else { return nil }
        return (reference, digest)
    }

    private static func image(_ reference: String?, digest: String, indent: String) -> String {
        guard let reference, let parsed = try? ImageReference(parsing: reference) else {
            return "\(indent)digest: \(digest)\n"
        }
        return "\(indent)registry: \(parsed.registry)\n\(indent)repository: \(parsed.repository)\n"
            + "\(indent)tag: \(parsed.tag ?? "latest")\n\(indent)digest: \(digest)\n"
    }
}
