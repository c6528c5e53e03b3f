import Foundation
public import SlipwayKernel
import Yams

/// An acr-task.yaml, as ACR Tasks and acb read it, turned into the same ``PipelineDefinition``
/// a Lua recipe makes: aliases expanded (from `version: v1.1.0`), the file rendered as a Go
/// template with `.Run`, `.Values` and `.Secrets`, then the YAML mapped step by step. acb's
/// rules hold: a step without `when` waits for the previous step in file order, `when: ["-"]`
/// starts at once, ids default to `acb_step_N`, and `push` is retried. A property Slipway
/// cannot honour is refused with its line.
public struct ACRTaskFile: Sendable {
    public var pipeline: PipelineDefinition
    /// The secret ids the task declares: `slipway run` must be given each (`--secret`).
    public var secretIDs: [String]
    /// Values to mask in every log line besides the run's secrets (secret volume contents).
    public var maskedValues: [String]
    /// Keys the template found missing, each with its line.
    public var warnings: [String]

    /// The run's secrets as this file needs them: `given`, plus the secret volume contents
    /// (masked like secrets), and the declared secret ids `given` lacks.
    public func secrets(merging given: [String: String]) -> (all: [String: String], missing: [String]) {
        var all = given
        for (index, value) in maskedValues.enumerated() { all["acr-volume-\(index)"] = value }
        return (all, secretIDs.filter { given[$0] == nil })
    }

    public static let versions = ["1.0-preview-1", "v1.0.0", "v1.1.0"]
    /// The format a stored task of this kind is kept under.
    public static let format = "acr-task.yaml"
    public static let defaultNetwork = "acb_default_network"
    static let defaultStepTimeout: Int64 = 600

    /// Whether `path` names a task file rather than a Lua recipe.
    public static func isTaskFile(_ path: String) -> Bool {
        path.hasSuffix(".yaml") || path.hasSuffix(".yml")
    }

    /// - Parameters:
    ///   - run: its facts become `.Run` (`registry` → `.Run.Registry`…), its values `.Values`.
    ///   - secrets: the run's secrets, `.Secrets.<id>` in the template.
    ///   - contextRoot: where relative build contexts are (a stored task's source); `nil`: where
    ///     `slipway run` starts.
    /// - Throws: ``ACRTaskError`` naming the line.
    public init(
        text: String, file: String, run: RunInfo, secrets: [String: String], contextRoot: ContextRoot? = nil,
        functions: TemplateFunctions = TemplateFunctions()
    ) throws {
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent()
        var source = text
        let version = Self.version(in: text)
        if let version, !Self.versions.contains(version) {
            throw ACRTaskError(file: file, line: Self.line(of: "version:", in: text), message: "version: '\(version)' is not one of \(Self.versions.joined(separator: ", "))")
        }
        var aliases: ACRAliases?
        if version == "v1.1.0" {
            let (found, rest) = try ACRAliases.split(text, file: file, directory: directory)
            aliases = found
            source = found.expand(rest)
        }
        let data = Self.templateData(run: run, secrets: secrets)
        let rendering = try GoTemplate(parsing: source, file: file).render(data, functions: functions)
        warnings = rendering.warnings
        var reader = Reader(file: file, aliases: aliases, contextRoot: contextRoot)
        let node: Node?
        do {
            node = try Yams.compose(yaml: rendering.text)
        } catch let error as YamlError {
            throw ACRTaskError(file: file, line: Self.line(of: error), message: "not valid YAML after rendering: \(error)")
        }
        guard let root = node?.mapping else { throw ACRTaskError(file: file, line: 1, message: "expected a mapping with steps") }
        pipeline = try reader.pipeline(from: root, name: URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent)
        secretIDs = reader.secretIDs
        maskedValues = reader.maskedValues
    }

    // MARK: Template data

    static func templateData(run: RunInfo, secrets: [String: String]) -> TemplateValue {
        let names = [
            "registry": "Registry", "registry_name": "RegistryName", "date": "Date", "os": "OS", "architecture": "Architecture",
            "shared_volume": "SharedVolume", "commit": "Commit", "branch": "Branch", "task": "TaskName", "git_tag": "GitTag",
            "repository": "Repository",
        ]
        var fields: [String: TemplateValue] = ["ID": .string(run.id), "TriggeredBy": .string(run.trigger)]
        for (key, value) in run.facts { if let name = names[key] { fields[name] = .string(value) } }
        for name in ["Commit", "Branch", "TaskName", "GitTag", "Repository"] where fields[name] == nil { fields[name] = .string("") }
        let values = value(run.values)
        return .map([
            "Run": .map(fields), "Values": values, "Secrets": .map(secrets.mapValues { .string($0) }),
            "Build": .map(["ID": .string(run.id)]),
            "ValuesJSON": .string(GoPrintf.json(values)), "RunJSON": .string(GoPrintf.json(.map(fields))),
        ])
    }

    static func value(_ config: ConfigValue) -> TemplateValue {
        switch config {
        case .string(let text): .string(text)
        case .int(let number): .int(number)
        case .double(let number): .double(number)
        case .bool(let flag): .bool(flag)
        case .array(let items): .list(items.map(value))
        case .object(let fields): .map(fields.mapValues(value))
        case .null: .null
        case .step(let id): .string(id.rawValue)
        case .hook: .null
        }
    }

    // MARK: Lines

    static func version(in text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("version:") {
            return line.dropFirst("version:".count).trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
        }
        return nil
    }

    static func line(of prefix: String, in text: String) -> Int {
        (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix(prefix) } ?? 0) + 1
    }

    static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: 1
        }
    }
}
