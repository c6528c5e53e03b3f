import Foundation
import SlipwayOCI

/// The run variables every run has, as ACR Tasks has them (`Run.Registry`, `Run.Date`, …):
/// recipes read them as `run.registry`, `run.date`, …; acr-task.yaml templates as `.Run.*`.
/// Trigger facts (commit, branch) are added by the trigger that starts a run.
enum RunVariables {
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
