public import SlipwayKernel
import Foundation

/// A parsed Dockerfile: parser directives, the `ARG`s before the first `FROM`, and the stages.
public struct Dockerfile: Sendable, Hashable {
    /// `# syntax=`, `# escape=`, `# check=`: keys lowercased.
    public var directives: [String: String]
    public var escape: Character
    public var globalArgs: [Instruction]
    public var stages: [Stage]
    public var file: String

    /// - Parameters:
    ///   - text: the Dockerfile.
    ///   - file: its name in messages (`Dockerfile`, `app/Dockerfile.prod`).
    /// - Throws: ``DockerfileError`` naming the file, line and instruction.
    public static func parse(_ text: String, file: String = "Dockerfile") throws -> Dockerfile {
        var parser = DockerfileParser(text: text, file: file)
        return try parser.parse()
    }

    /// The stage `--target` names (or the last one), and the stages it needs.
    /// - Throws: ``DockerfileError`` when no stage has that name.
    public func stage(named target: String?) throws -> Stage {
        guard let target else { return stages[stages.count - 1] }
        guard let stage = stages.first(where: { $0.name == target.lowercased() }) else {
            let names = stages.compactMap(\.name)
            throw DockerfileError(
                location: SourceLocation(file: file, line: 0),
                message: "no stage named '\(target)'" + (names.isEmpty ? " (stages have no names)" : " (stages: \(names.joined(separator: ", ")))"))
        }
        return stage
    }
}

/// Line-oriented parser following the Dockerfile reference: directives only at the very top,
/// comments removed even inside continuations, the escape character joins lines, heredocs are
/// read raw.
struct DockerfileParser {
    private let lines: [Substring]
    private let file: String
    private var index = 0
    private var escape: Character = "\\"

    init(text: String, file: String) {
        // "\r\n" is one Character in Swift, so a split on "\n" alone would never see CRLF lines.
        lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        self.file = file
    }

    private func location(_ line: Int) -> SourceLocation { SourceLocation(file: file, line: line) }

    mutating func parse() throws -> Dockerfile {
        let directives = try parseDirectives()
        if let value = directives["escape"] {
            guard value == "\\" || value == "`" else {
                throw DockerfileError(location: location(1), message: "invalid escape directive '\(value)': use \\ or `")
            }
            escape = Character(value)
        }
        var globalArgs: [Instruction] = []
        var stages: [Stage] = []
        while let instruction = try nextInstruction() {
            if instruction.keyword == .from {
                let (base, name, platform) = try Self.fromParts(instruction)
                if let name, stages.contains(where: { $0.name == name }) {
                    throw instruction.error("duplicate stage name '\(name)'")
                }
                stages.append(Stage(index: stages.count, name: name, base: base, platform: platform, from: instruction, instructions: []))
            } else if stages.isEmpty {
                guard instruction.keyword == .arg else {
                    throw instruction.error("only ARG may come before the first FROM")
                }
                globalArgs.append(instruction)
            } else {
                stages[stages.count - 1].instructions.append(instruction)
            }
        }
        guard !stages.isEmpty else {
            throw DockerfileError(location: location(1), message: "no FROM instruction: a Dockerfile must start a stage with FROM")
        }
        return Dockerfile(directives: directives, escape: escape, globalArgs: globalArgs, stages: stages, file: file)
    }

    private mutating func parseDirectives() throws -> [String: String] {
        var directives: [String: String] = [:]
        while index < lines.count {
            let line = lines[index].trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("#") else { break }
            let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
            guard let equals = body.firstIndex(of: "=") else { break }
            let key = body[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            guard ["syntax", "escape", "check"].contains(key) else { break }
            guard directives[key] == nil else {
                throw DockerfileError(location: location(index + 1), message: "parser directive '\(key)' given twice")
            }
            directives[key] = body[body.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            index += 1
        }
        return directives
    }

    private static func isComment(_ line: Substring) -> Bool { line.drop { $0 == " " || $0 == "\t" }.hasPrefix("#") }
    private static func isBlank(_ line: Substring) -> Bool { line.allSatisfy { $0 == " " || $0 == "\t" } }

    /// The next logical instruction, or nil at the end.
    private mutating func nextInstruction() throws -> Instruction? {
        while index < lines.count, Self.isBlank(lines[index]) || Self.isComment(lines[index]) { index += 1 }
        guard index < lines.count else { return nil }
        let startLine = index + 1
        var logical = ""
        var continues = true
        while continues && index < lines.count {
            let raw = lines[index]
            index += 1
            if logical.isEmpty == false, Self.isComment(raw) || Self.isBlank(raw) { continue }  // inside a continuation
            var line = String(raw)
            while let last = line.last, last == " " || last == "\t" { line.removeLast() }
            if line.last == escape {
                line.removeLast()
                logical += line
                continues = true
            } else {
                logical += line
                continues = false
            }
        }
        return try instruction(from: logical.trimmingCharacters(in: .whitespaces), line: startLine, allowHeredocs: true)
    }

    private mutating func instruction(from text: String, line: Int, allowHeredocs: Bool) throws -> Instruction {
        let word = text.prefix { !$0.isWhitespace }
        var rest = text.dropFirst(word.count).drop { $0.isWhitespace }
        guard let keyword = Instruction.Keyword(rawValue: word.lowercased()) else {
            throw DockerfileError(location: location(line), message: "unknown instruction '\(word)'")
        }
        var instruction = Instruction(
            keyword: keyword, flags: [], arguments: .shell(""), heredocs: [], nested: .none, location: location(line), original: text)

        if [.from, .run, .copy, .add, .healthcheck].contains(keyword) {
            while rest.hasPrefix("--") {
                let token = rest.prefix { !$0.isWhitespace }
                rest = rest.dropFirst(token.count).drop { $0.isWhitespace }
                let body = token.dropFirst(2)
                // A lone `--` ends the flags (`COPY -- -file /dst`), as in BuildKit.
                if body.isEmpty { break }
                if let equals = body.firstIndex(of: "=") {
                    instruction.flags.append(.init(name: String(body[..<equals]), value: String(body[body.index(after: equals)...])))
                } else {
                    instruction.flags.append(.init(name: String(body), value: nil))
                }
            }
            try validateFlags(instruction)
        }

        if keyword == .onbuild {
            let nested = try self.instruction(from: String(rest), line: line, allowHeredocs: false)
            guard ![.onbuild, .from, .maintainer].contains(nested.keyword) else {
                throw instruction.error("\(nested.name) is not allowed in ONBUILD")
            }
            instruction.nested = .instruction(nested)
            instruction.arguments = .shell(String(rest))
            return instruction
        }

        let argumentText = String(rest)
        let jsonForm = [.run, .cmd, .entrypoint, .shell, .volume, .copy, .add].contains(keyword) && argumentText.hasPrefix("[")
        if jsonForm, Self.isJSONArrayOfOtherThings(argumentText) {
            // Valid JSON that is not all strings is a mistake, not shell form (BuildKit's rule).
            throw instruction.error("when using JSON array syntax, arrays must be comprised of strings only")
        }
        if jsonForm, let array = Self.jsonArray(argumentText) {
            instruction.arguments = .json(array)
        } else {
            instruction.arguments = .shell(argumentText)
        }
        if keyword == .shell, case .shell = instruction.arguments {
            throw instruction.error("SHELL requires the JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]")
        }
        if allowHeredocs, [.run, .copy, .add].contains(keyword), case .shell(let text) = instruction.arguments {
            instruction.heredocs = try readHeredocs(declaredIn: text, instruction: instruction)
        }
        try checkArity(instruction)
        return instruction
    }

    private func validateFlags(_ instruction: Instruction) throws {
        let allowed: Set<String> =
            switch instruction.keyword {
            case .from: ["platform"]
            case .run: ["mount", "network", "security"]
            case .copy: ["from", "chown", "chmod", "link", "parents", "exclude"]
            case .add: ["chown", "chmod", "link", "checksum", "keep-git-dir", "exclude"]
            case .healthcheck: ["interval", "timeout", "start-period", "start-interval", "retries"]
            default: []
            }
        for flag in instruction.flags where !allowed.contains(flag.name) {
            throw instruction.error("unknown flag --\(flag.name)" + (allowed.isEmpty ? "" : " (expected: \(allowed.sorted().map { "--" + $0 }.joined(separator: ", ")))"))
        }
    }

    private func checkArity(_ instruction: Instruction) throws {
        let empty: Bool =
            switch instruction.arguments {
            case .json(let items): items.isEmpty && instruction.keyword != .cmd && instruction.keyword != .entrypoint
            case .shell(let text): text.isEmpty
            }
        if empty && instruction.heredocs.isEmpty {
            throw instruction.error("requires arguments")
        }
    }

    /// Whether `text` is a JSON array holding something other than strings (`["sleep", 5]`).
    static func isJSONArrayOfOtherThings(_ text: String) -> Bool {
        guard let data = text.data(using: .utf8), let value = try? JSONSerialization.jsonObject(with: data) as? [Any] else { return false }
        return value.contains { !($0 is String) }
    }

    /// `["a", "b"]` → strings; nil when it is not a JSON array of strings (then it is shell form).
    static func jsonArray(_ text: String) -> [String]? {
        guard let data = text.data(using: .utf8), let value = try? JSONSerialization.jsonObject(with: data) as? [Any] else { return nil }
        let strings = value.compactMap { $0 as? String }
        return strings.count == value.count ? strings : nil
    }

    /// Reads the bodies of `<<EOF`, `<<-EOF`, `<<"EOF"` markers in `text`, in order, from the
    /// lines after the instruction.
    private mutating func readHeredocs(declaredIn text: String, instruction: Instruction) throws -> [Instruction.Heredoc] {
        var heredocs: [Instruction.Heredoc] = []
        var search = Substring(text)
        while let marker = search.range(of: "<<") {
            var rest = search[marker.upperBound...]
            let stripTabs = rest.hasPrefix("-")
            if stripTabs { rest = rest.dropFirst() }
            var quoted = false
            if let quote = rest.first, quote == "\"" || quote == "'" {
                quoted = true
                rest = rest.dropFirst()
            }
            // A word: `<<robots.txt` names the file robots.txt (COPY <<robots.txt /srv/).
            let name = rest.prefix { $0.isLetter || $0.isNumber || "_.-".contains($0) }
            search = rest.dropFirst(name.count)
            guard !name.isEmpty else { continue }
            if quoted { search = search.dropFirst() }
            var body: [String] = []
            var closed = false
            while index < lines.count {
                var line = String(lines[index])
                index += 1
                if stripTabs { line = String(line.drop { $0 == "\t" }) }
                if line == name {
                    closed = true
                    break
                }
                body.append(line)
            }
            guard closed else { throw instruction.error("heredoc <<\(name) is not terminated (no line '\(name)')") }
            heredocs.append(.init(name: String(name), content: body.map { $0 + "\n" }.joined(), expands: !quoted))
        }
        return heredocs
    }

    /// FROM [--platform=P] IMAGE [AS NAME]
    static func fromParts(_ instruction: Instruction) throws -> (base: String, name: String?, platform: String?) {
        guard case .shell(let text) = instruction.arguments else { throw instruction.error("expects an image, not a JSON array") }
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        switch words.count {
        case 1: return (words[0], nil, instruction.flag("platform"))
        case 3 where words[1].lowercased() == "as":
            let name = words[2].lowercased()
            guard let first = name.first, first.isLetter, name.allSatisfy({ $0.isLetter || $0.isNumber || "_.-".contains($0) }) else {
                throw instruction.error("invalid stage name '\(words[2])' (a letter, then letters, digits, '_', '.', '-')")
            }
            return (words[0], name, instruction.flag("platform"))
        default:
            throw instruction.error("expected FROM [--platform=<platform>] <image> [AS <name>]")
        }
    }
}
