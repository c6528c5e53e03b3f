import Foundation
import SlipwayOCI
import SlipwayRuntime

/// The run variables every run has, as ACR Tasks has them (`Run.Registry`, `Run.Date`, …):
/// recipes read them as `run.registry`, `run.date`, …; acr-task.yaml templates as `.Run.*`.
/// A trigger adds the facts of its event; for `slipway run`, the commit and branch are those
/// checked out where it starts, when that is a Git work tree (acb: "the latest commit from the
/// actively checked out branch").
enum RunVariables {
    static func facts(registry: String?, in directory: URL) async -> [String: String] {
        var facts = facts(registry: registry)
        // One git call for both: the sha, then the full name of the branch ("HEAD" when detached).
        var command = ExternalCommand("git", ["rev-parse", "HEAD", "--symbolic-full-name", "HEAD"])
        command.directory = directory
        if let output = try? await command.runAllowingFailure(), output.status == 0 {
            let lines = output.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            if let commit = lines.first, !commit.isEmpty { facts["commit"] = commit }
            if lines.count > 1, lines[1].hasPrefix("refs/heads/") { facts["branch"] = String(lines[1].dropFirst("refs/heads/".count)) }
        }
        return facts
    }

    static func facts(registry: String?, now: Date = Date()) -> [String: String] {
        let platform = Platform.host
        var facts = [
            "date": date(now), "os": platform.os, "architecture": platform.architecture,
            // The `volumes` name of the shared workspace, mounted at /workspace in every cmd step.
            "shared_volume": "workspace",
        ]
        if let registry {
            facts["registry"] = registry
            // The registry's own name: the first label of its host (`myregistry` of myregistry.azurecr.io).
            facts["registry_name"] = String(registry.prefix { $0 != "." && $0 != ":" })
        }
        return facts
    }

    /// ACR's format: `yyyyMMdd-HHmmssz` in UTC (20261203-164501z).
    static func date(_ now: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss'z'"
        return formatter.string(from: now)
    }
}
