import ArgumentParser
import Foundation
import SlipwayKernel
import SlipwayACR
import SlipwayLua

/// What `run` and `plan` share: the recipe and the values it sees.
struct RecipeOptions: ParsableArguments {
    @Argument(help: "The recipe file (Lua), or an acr-task.yaml (.yaml, .yml).", completion: .file(extensions: ["lua", "yaml", "yml"]))
    var file: String

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp("Set a value the recipe reads as values.KEY (dotted keys nest: a.b=c).", valueName: "key=value"))
    var assignments: [String] = []

    @Option(name: .customLong("values"), help: ArgumentHelp("Read values from a JSON or YAML file.", valueName: "file"))
    var valuesFiles: [String] = []

    @Option(name: .customLong("lib"), help: ArgumentHelp("Add a require root (after the recipe's folder).", valueName: "dir"))
    var libraries: [String] = []

    @Option(
        help: ArgumentHelp(
            "The registry the run pushes to: run.registry in recipes ($Registry and .Run.Registry in acr-task.yaml).",
            valueName: "host[:port]"))
    var registry: String?

    @Flag(name: .shortAndLong, help: "Show Lua tracebacks with recipe errors.")
    var verbose = false

    /// The run as recipes see it: its id, the values, and the run variables.
    func runInfo(id: String) async throws -> RunInfo {
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        return RunInfo(id: id, facts: await RunVariables.facts(registry: registry, in: directory), values: try values())
    }

    /// `--values` files merged in order, then `--set` on top.
    func values() throws -> ConfigValue {
        try ValueOptions(assignments: assignments, files: valuesFiles).values()
    }

    /// `require` roots: `--lib` directories, then `Recipes/lib` of the working directory.
    var libraryRoots: [String] {
        var roots = libraries
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "Recipes/lib", isDirectory: &isDirectory), isDirectory.boolValue {
            roots.append("Recipes/lib")
        }
        return roots
    }

    /// Whether the file is an acr-task.yaml rather than a Lua recipe.
    var isTaskFile: Bool { ACRTaskFile.isTaskFile(file) }

    /// Reads and renders the acr-task.yaml; template warnings go to stderr.
    func taskFile(run: RunInfo, secrets: [String: String]) throws -> ACRTaskFile {
        guard libraries.isEmpty else { throw InputError("--lib: \(file) is an acr-task.yaml, which has no require; --lib is for Lua recipes") }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw InputError("\(file): no such task file") }
        let task = try ACRTaskFile(text: text, file: file, run: run, secrets: secrets)
        for warning in task.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        return task
    }

    /// Evaluates the recipe; its warnings and prints go to stderr unless the caller takes them
    /// (`printingMessages: false`, then they are in `session.messages`).
    func session(registry: PluginRegistry, run: RunInfo, printingMessages: Bool = true) throws -> RecipeSession {
        guard FileManager.default.isReadableFile(atPath: file) else { throw InputError("\(file): no such recipe file") }
        let session = try RecipeSession(file: file, registry: registry, run: run, libraryRoots: libraryRoots)
        if printingMessages {
            let sink = StderrLogSink()
            for line in session.messages { sink.write(line) }
        }
        return session
    }
}

/// Invalid input from the command line (exit 64).
struct InputError: CategorizedError, CustomStringConvertible {
    var description: String
    var category: ErrorCategory { .invalidInput }
    init(_ description: String) { self.description = description }
}

extension InputError {
    /// `key=value` split at the first `=`; nil when there is none or the key is empty.
    static func keyValue(_ text: String) -> (key: String, value: String)? {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { return nil }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }
}
