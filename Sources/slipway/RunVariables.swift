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
        let git = { (arguments: [String]) async -> String? in
            var command = ExternalCommand("git", arguments)
            command.directory = directory
            guard let output = try? await command.runAllowingFailure(), output.status == 0 else { return nil }
            let text = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? nil : text
        }
        if let commit = await git(["rev-parse", "HEAD"]) {
            facts["commit"] = commit
            if let branch = await git(["symbolic-ref", "--short", "-q", "HEAD"]) { facts["branch"] = branch }
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
