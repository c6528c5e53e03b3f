import Foundation
import Yams

/// acb's aliases (task files of `version: v1.1.0` and later): `$ID`, `$Registry`, … stand for
/// run variables, `alias: { values: { name: text } }` adds the task's own, and `directive`
/// changes the `$`. An alias the table does not know stays as written (`$HOME` in a shell
/// command), and a doubled directive (`$$`) is a literal one. Image aliases (`bash`, `curl`,
/// `az`, `acr`) also apply, without the directive, to the image of a `cmd` step.
struct ACRAliases {
    /// acb's defaults on Linux.
    static let defaults: [String: String] = [
        "ID": "{{.Run.ID}}", "SharedVolume": "{{.Run.SharedVolume}}", "Registry": "{{.Run.Registry}}",
        "RegistryName": "{{.Run.RegistryName}}", "Date": "{{.Run.Date}}", "OS": "{{.Run.OS}}",
        "Architecture": "{{.Run.Architecture}}", "Commit": "{{.Run.Commit}}", "Branch": "{{.Run.Branch}}",
        "purge": "mcr.microsoft.com/acr/acr-cli:0.1 purge", "acr": "mcr.microsoft.com/acr/acr-cli:0.1",
        "az": "mcr.microsoft.com/azure-cli:d0725bc", "bash": "mcr.microsoft.com/bash:d0725bc", "curl": "mcr.microsoft.com/curl:d0725bc",
    ]

    var values: [String: String]
    var directive: Character

    /// Splits the `alias:` section off the top level of `text` (as acb does, line by line), and
    /// reads it.
    /// - Parameter directory: where `src` files are found (the task file's folder).
    /// - Returns: the aliases and the rest of the text, with the alias section's lines blanked
    ///   so that line numbers stay those of the file.
    static func split(_ text: String, file: String, directory: URL) throws -> (ACRAliases, String) {
        var section: [String] = []
        var rest: [String] = []
        var inside = false
        var firstLine = 0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let isTopLevelKey = line.first.map { !$0.isWhitespace && $0 != "#" && $0 != "-" } ?? false && line.contains(":")
            if isTopLevelKey { inside = line.hasPrefix("alias:") || line.hasPrefix("alias :") }
            if inside {
                if section.isEmpty { firstLine = index + 1 }
                section.append(String(line))
                rest.append("")
            } else {
                rest.append(String(line))
            }
        }
        var aliases = ACRAliases(values: [:], directive: "$")
        if !section.isEmpty {
            try aliases.read(section.joined(separator: "\n"), file: file, line: firstLine, directory: directory)
        }
        for (key, value) in defaults where aliases.values[key] == nil { aliases.values[key] = value }
        return (aliases, rest.joined(separator: "\n"))
    }

    private mutating func read(_ yaml: String, file: String, line: Int, directory: URL) throws {
        func fail(_ message: String) -> ACRTaskError { ACRTaskError(file: file, line: line, message: "alias: \(message)") }
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw fail("not valid YAML: \(error)")
        }
        guard let alias = node?.mapping?["alias"] else { return }
        guard let fields = alias.mapping else { throw fail("expected a mapping with values, src and directive") }
        for (key, value) in fields {
            switch key.string ?? "" {
            case "values":
                guard let map = value.mapping else { throw fail("values: expected a mapping of names to text") }
                for (name, text) in map {
                    guard let name = name.string, let text = text.string else { throw fail("values: expected text") }
                    try Self.checkName(name, fail)
                    values[name] = text
                }
            case "directive":
                guard let text = value.string, text.count == 1, let character = text.first else {
                    throw fail("the directive is one character")
                }
                guard !(character.isLetter || character.isNumber) else { throw fail("the directive may not be a letter or digit") }
                directive = character
            case "src":
                guard let sources = value.sequence else { throw fail("src: expected a list of files") }
                // Later sources win; values given inline win over every source.
                var loaded: [String: String] = [:]
                for source in sources {
                    guard let path = source.string else { throw fail("src: expected file names") }
                    if path.contains("://") {
                        throw fail("src: \(path): Slipway reads alias files from disk only; put the file beside the task")
                    }
                    let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : directory.appendingPathComponent(path)
                    guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw fail("src: cannot read \(url.path)") }
                    guard let map = (try? Yams.compose(yaml: text))?.mapping else { throw fail("src: \(path) is not a YAML mapping") }
                    for (name, value) in map {
                        guard let name = name.string, let text = value.string else { continue }
                        try Self.checkName(name, fail)
                        loaded[name] = text
                    }
                }
                for (name, text) in loaded where values[name] == nil { values[name] = text }
            case let other:
                throw fail("unknown key '\(other)' (values, src, directive)")
            }
        }
    }

    private static func checkName(_ name: String, _ fail: (String) -> ACRTaskError) throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw fail("alias names are letters and digits only, not '\(name)'")
        }
    }

    /// Replaces `$name` with its value wherever it appears, as acb's preprocessor does.
    func expand(_ text: String) -> String {
        var output = ""
        var name = ""
        var pending = false
        for character in text {
            if pending {
                if character == directive && name.isEmpty {
                    output.append(directive)
                    pending = false
                } else if character.isASCII && (character.isLetter || character.isNumber) {
                    name.append(character)
                } else {
                    if let value = values[name] { output += value } else { output += String(directive) + name }
                    name = ""
                    if character == directive {
                        pending = true
                    } else {
                        pending = false
                        output.append(character)
                    }
                }
            } else if character == directive {
                pending = true
            } else {
                output.append(character)
            }
        }
        if pending { output += values[name] ?? (String(directive) + name) }
        return output
    }

    /// The image of a `cmd` step, when it is an image alias (`bash` → mcr.microsoft.com/bash:…).
    func image(_ word: String) -> String { values[word] ?? word }
}
