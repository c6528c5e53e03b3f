import SlipwayKernel
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

/// Gives the grammar's nodes their meaning: stages, global ARGs, the flags each instruction
/// accepts, the arity each needs. Everything refused names its line.
struct DockerfileParser {
    private let text: String
    private let file: String

    init(text: String, file: String) {
        self.text = text
        self.file = file
    }

    private func location(_ line: Int) -> SourceLocation { SourceLocation(file: file, line: line) }

    mutating func parse() throws -> Dockerfile {
        let tree: SyntaxTree
        do {
            tree = try SyntaxTree.parse(text, file: file)
        } catch let error as DockerfileError where error.message == "file with no instructions" {
            throw DockerfileError(location: location(1), message: "no FROM instruction: a Dockerfile must start a stage with FROM")
        }
        var globalArgs: [Instruction] = []
        var stages: [Stage] = []
        for node in tree.nodes {
            let instruction = try self.instruction(from: node, nested: false)
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
        return Dockerfile(directives: tree.directives, escape: tree.escape, globalArgs: globalArgs, stages: stages, file: file)
    }

    private func instruction(from node: SyntaxNode, nested: Bool) throws -> Instruction {
        guard let keyword = Instruction.Keyword(rawValue: node.keyword.lowercased()) else {
            throw DockerfileError(location: location(node.startLine), message: "unknown instruction '\(node.keyword)'")
        }
        let arguments: Instruction.Arguments = if case .json(let array) = node.arguments { .json(array) } else { .shell(node.argumentText) }
        var instruction = Instruction(
            keyword: keyword, flags: node.flags.map(Self.flag), arguments: arguments,
            heredocs: node.heredocs.map { .init(name: $0.name, content: $0.content, expands: $0.expands) },
            nested: .none, location: location(node.startLine), original: node.original.trimmingCharacters(in: .whitespaces),
            syntax: node)
        try validateFlags(instruction)
        if keyword == .onbuild {
            guard case .nested(let child?) = node.arguments else { throw instruction.error("ONBUILD needs an instruction") }
            let trigger = try self.instruction(from: child, nested: true)
            guard ![.onbuild, .from, .maintainer].contains(trigger.keyword) else {
                throw instruction.error("\(trigger.name) is not allowed in ONBUILD")
            }
            guard trigger.heredocs.isEmpty else { throw instruction.error("heredocs are not supported in ONBUILD triggers") }
            instruction.nested = .instruction(trigger)
            return instruction
        }
        if keyword == .shell, case .shell = instruction.arguments {
            throw instruction.error("SHELL requires the JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]")
        }
        try checkArity(instruction)
        return instruction
    }

    /// `--name=value` or `--name` as the grammar read it.
    private static func flag(_ text: String) -> Instruction.Flag {
        let body = text.hasPrefix("--") ? text.dropFirst(2) : Substring(text)
        guard let equals = body.firstIndex(of: "=") else { return .init(name: String(body), value: nil) }
        return .init(name: String(body[..<equals]), value: String(body[body.index(after: equals)...]))
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
            throw instruction.error("unknown flag --\(flag.name)" + (allowed.isEmpty ? " (\(instruction.name) takes no flags)" : " (expected: \(allowed.sorted().map { "--" + $0 }.joined(separator: ", ")))"))
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

    /// FROM [--platform=P] IMAGE [AS NAME]
    static func fromParts(_ instruction: Instruction) throws -> (base: String, name: String?, platform: String?) {
        guard case .words(let words) = instruction.syntax.arguments else { throw instruction.error("expects an image, not a JSON array") }
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
