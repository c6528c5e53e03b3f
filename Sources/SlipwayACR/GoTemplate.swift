import Foundation

/// Go's `text/template`, as far as acr-task.yaml files use it: text and `{{ actions }}` with
/// trim markers (`{{-`, `-}}`) and comments, pipelines (`.Values.tag | default "latest"`),
/// variables (`$x := …`, `$`), parenthesised calls, and `if`/`else if`/`else`, `range` (with
/// `$i, $v :=`) and `with`. `define`, `template`, `block`, `break` and `continue` are refused
/// with their line rather than rendered wrongly.
public struct GoTemplate: Sendable {
    indirect enum Node: Sendable {
        case text(String)
        case action(Pipeline, line: Int)
        case conditional(kind: Conditional, Pipeline, body: [Node], otherwise: [Node], line: Int)
    }

    enum Conditional: Sendable { case `if`, range, with }

    struct Pipeline: Sendable {
        /// `$a := …` or `$i, $v := …` (range); `assign` is `=` to an existing variable.
        var variables: [String] = []
        var assign = false
        var commands: [[Operand]]
    }

    indirect enum Operand: Sendable {
        case literal(TemplateValue)
        /// `.A.B` (an empty chain is `.` itself).
        case field([String])
        /// `$name.A.B` (`$` alone is the root).
        case variable(String, [String])
        case function(String)
        case nested(Pipeline, [String])
    }

    let file: String
    let nodes: [Node]

    /// - Throws: ``ACRTaskError`` naming the line of the first bad action.
    public init(parsing text: String, file: String) throws(ACRTaskError) {
        self.file = file
        var parser = Parser(file: file, pieces: try Self.split(text, file: file))
        nodes = try parser.parseList(until: [])
    }

    // MARK: Splitting text and actions

    enum Piece {
        case text(String)
        case action(String, line: Int)
    }

    /// Cuts the text into literal text and action bodies, applying trim markers and dropping
    /// comments.
    static func split(_ text: String, file: String) throws(ACRTaskError) -> [Piece] {
        var pieces: [Piece] = []
        var rest = Substring(text)
        var line = 1
        while let open = rest.range(of: "{{") {
            var before = String(rest[..<open.lowerBound])
            line += before.filter { $0 == "\n" }.count
            var body = rest[open.upperBound...]
            if body.hasPrefix("- ") || body.hasPrefix("-\n") || body.hasPrefix("-\t") {
                before = String(before.reversed().drop { $0.isWhitespace }.reversed())
                body = body.dropFirst(2)
            }
            if !before.isEmpty { pieces.append(.text(before)) }
            guard let close = body.range(of: "}}") else {
                throw ACRTaskError(file: file, line: line, message: "template: unclosed action: '{{' without '}}'")
            }
            var inner = body[..<close.lowerBound]
            var trimAfter = false
            if inner.hasSuffix(" -") || inner.hasSuffix("\n-") || inner.hasSuffix("\t-") {
                inner = inner.dropLast(2)
                trimAfter = true
            }
            let trimmed = inner.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.hasPrefix("/*") {
                guard trimmed.hasSuffix("*/") else { throw ACRTaskError(file: file, line: line, message: "template: unclosed comment") }
            } else {
                pieces.append(.action(String(inner), line: line))
            }
            line += inner.filter { $0 == "\n" }.count
            rest = body[close.upperBound...]
            if trimAfter { rest = rest.drop { $0.isWhitespace } }
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        return pieces
    }
}

extension GoTemplate {
    /// Builds the node tree from the pieces, one control structure at a time.
    struct Parser {
        let file: String
        let pieces: [Piece]
        var position = 0

        init(file: String, pieces: [Piece]) {
            self.file = file
            self.pieces = pieces
        }

        /// What ended a list: `end`, `else`, or `else if PIPELINE`.
        enum Terminator { case end, otherwise, otherwiseIf(Pipeline, line: Int) }

        mutating func parseList(until allowed: Set<String>) throws(ACRTaskError) -> [Node] {
            try parseList(until: allowed, ended: nil).nodes
        }

        private mutating func parseList(until allowed: Set<String>, ended: Int?) throws(ACRTaskError) -> (nodes: [Node], terminator: Terminator?) {
            var nodes: [Node] = []
            while position < pieces.count {
                let piece = pieces[position]
                position += 1
                switch piece {
                case .text(let text):
                    nodes.append(.text(text))
                case .action(let body, let line):
                    var tokens = try Lexer.tokens(body, file: file, line: line)
                    guard case .identifier(let word)? = tokens.first else {
                        nodes.append(.action(try parsePipeline(&tokens, line: line, declarations: true), line: line))
                        continue
                    }
                    switch word {
                    case "end":
                        guard allowed.contains("end"), tokens.count == 1 else { throw error(line, "unexpected {{end}}") }
                        return (nodes, .end)
                    case "else":
                        guard allowed.contains("else") else { throw error(line, "unexpected {{else}}") }
                        tokens.removeFirst()
                        if case .identifier("if")? = tokens.first {
                            tokens.removeFirst()
                            return (nodes, .otherwiseIf(try parsePipeline(&tokens, line: line, declarations: true), line: line))
                        }
                        guard tokens.isEmpty else { throw error(line, "unexpected words after else") }
                        return (nodes, .otherwise)
                    case "if", "range", "with":
                        tokens.removeFirst()
                        let kind: Conditional = word == "if" ? .if : word == "range" ? .range : .with
                        let pipeline = try parsePipeline(&tokens, line: line, declarations: true)
                        nodes.append(try parseConditional(kind, pipeline, line: line))
                    case "define", "template", "block", "break", "continue":
                        throw error(line, "{{\(word)}} is not supported in acr-task.yaml files by Slipway")
                    default:
                        nodes.append(.action(try parsePipeline(&tokens, line: line, declarations: true), line: line))
                    }
                }
            }
            if let ended { throw error(ended, "missing {{end}}") }
            return (nodes, nil)
        }

        private mutating func parseConditional(_ kind: Conditional, _ pipeline: Pipeline, line: Int) throws(ACRTaskError) -> Node {
            let (body, terminator) = try parseList(until: ["end", "else"], ended: line)
            switch terminator {
            case .end?, nil:
                return .conditional(kind: kind, pipeline, body: body, otherwise: [], line: line)
            case .otherwise?:
                let (otherwise, last) = try parseList(until: ["end"], ended: line)
                guard case .end? = last else { throw error(line, "missing {{end}}") }
                return .conditional(kind: kind, pipeline, body: body, otherwise: otherwise, line: line)
            case .otherwiseIf(let next, let elseLine)?:
                guard kind == .if else { throw error(elseLine, "{{else if}} only follows {{if}}") }
                let nested = try parseConditional(.if, next, line: elseLine)
                return .conditional(kind: kind, pipeline, body: body, otherwise: [nested], line: line)
            }
        }

        func error(_ line: Int, _ message: String) -> ACRTaskError { ACRTaskError(file: file, line: line, message: "template: " + message) }

        // MARK: Pipelines

        mutating func parsePipeline(_ tokens: inout [Token], line: Int, declarations: Bool) throws(ACRTaskError) -> Pipeline {
            var variables: [String] = []
            var assign = false
            if declarations, let declared = tokens.firstIndex(where: { $0 == .declare || $0 == .assign }) {
                let names = tokens[..<declared]
                var expectName = true
                for token in names {
                    switch (token, expectName) {
                    case (.variable(let name, let chain), true) where chain.isEmpty: variables.append(name)
                    case (.comma, false): break
                    default: throw error(line, "bad variable declaration")
                    }
                    expectName.toggle()
                }
                guard !variables.isEmpty, variables.count <= 2, !expectName else { throw error(line, "bad variable declaration") }
                assign = tokens[declared] == .assign
                tokens.removeSubrange(...declared)
            }
            var commands: [[Operand]] = [[]]
            while !tokens.isEmpty {
                let token = tokens.removeFirst()
                switch token {
                case .pipe:
                    guard !(commands.last?.isEmpty ?? true) else { throw error(line, "missing command before '|'") }
                    commands.append([])
                case .open:
                    var depth = 1
                    var inner: [Token] = []
                    while depth > 0 {
                        guard !tokens.isEmpty else { throw error(line, "unclosed '('") }
                        let next = tokens.removeFirst()
                        if next == .open { depth += 1 }
                        if next == .close { depth -= 1 }
                        if depth > 0 { inner.append(next) }
                    }
                    var chain: [String] = []
                    if case .field(let fields)? = tokens.first, !fields.isEmpty {
                        chain = fields
                        tokens.removeFirst()
                    }
                    commands[commands.count - 1].append(.nested(try parsePipeline(&inner, line: line, declarations: false), chain))
                case .close: throw error(line, "unexpected ')'")
                case .comma, .declare, .assign: throw error(line, "unexpected '\(token)'")
                case .field(let chain): commands[commands.count - 1].append(.field(chain))
                case .variable(let name, let chain): commands[commands.count - 1].append(.variable(name, chain))
                case .literal(let value): commands[commands.count - 1].append(.literal(value))
                case .identifier(let name):
                    switch name {
                    case "true": commands[commands.count - 1].append(.literal(.bool(true)))
                    case "false": commands[commands.count - 1].append(.literal(.bool(false)))
                    case "nil": commands[commands.count - 1].append(.literal(.null))
                    default: commands[commands.count - 1].append(.function(name))
                    }
                }
            }
            guard !(commands.last?.isEmpty ?? true) else { throw error(line, "missing value for command") }
            return Pipeline(variables: variables, assign: assign, commands: commands)
        }
    }

    // MARK: Tokens

    enum Token: Equatable, CustomStringConvertible {
        case identifier(String)
        case field([String])
        case variable(String, [String])
        case literal(TemplateValue)
        case pipe, open, close, comma, declare, assign

        var description: String {
            switch self {
            case .identifier(let name): name
            case .field(let chain): "." + chain.joined(separator: ".")
            case .variable(let name, _): "$" + name
            case .literal(let value): value.printed
            case .pipe: "|"
            case .open: "("
            case .close: ")"
            case .comma: ","
            case .declare: ":="
            case .assign: "="
            }
        }
    }

    enum Lexer {
        static func tokens(_ body: String, file: String, line: Int) throws(ACRTaskError) -> [Token] {
            let characters = Array(body)
            var index = 0
            var tokens: [Token] = []
            func fail(_ message: String) -> ACRTaskError { ACRTaskError(file: file, line: line, message: "template: " + message) }
            func isWord(_ character: Character) -> Bool { character.isLetter || character.isNumber || character == "_" }
            func chain() -> [String] {
                var parts: [String] = []
                while index < characters.count, characters[index] == "." {
                    var name = ""
                    index += 1
                    while index < characters.count, isWord(characters[index]) {
                        name.append(characters[index])
                        index += 1
                    }
                    if name.isEmpty && parts.isEmpty { return [] }
                    parts.append(name)
                }
                return parts
            }
            while index < characters.count {
                let character = characters[index]
                if character.isWhitespace {
                    index += 1
                } else if character == "|" {
                    tokens.append(.pipe)
                    index += 1
                } else if character == "(" {
                    tokens.append(.open)
                    index += 1
                } else if character == ")" {
                    tokens.append(.close)
                    index += 1
                } else if character == "," {
                    tokens.append(.comma)
                    index += 1
                } else if character == ":" && index + 1 < characters.count && characters[index + 1] == "=" {
                    tokens.append(.declare)
                    index += 2
                } else if character == "=" {
                    tokens.append(.assign)
                    index += 1
                } else if character == "." && (index + 1 == characters.count || !characters[index + 1].isNumber) {
                    let parts = chain()
                    if parts.contains(where: \.isEmpty) { throw fail("bad field name") }
                    tokens.append(.field(parts))
                } else if character == "$" {
                    index += 1
                    var name = ""
                    while index < characters.count, isWord(characters[index]) {
                        name.append(characters[index])
                        index += 1
                    }
                    let parts = chain()
                    if parts.contains(where: \.isEmpty) { throw fail("bad field name") }
                    tokens.append(.variable(name, parts))
                } else if character == "\"" {
                    index += 1
                    var text = ""
                    var closed = false
                    while index < characters.count {
                        let next = characters[index]
                        index += 1
                        if next == "\"" {
                            closed = true
                            break
                        }
                        if next == "\\" {
                            guard index < characters.count else { break }
                            let escaped = characters[index]
                            index += 1
                            switch escaped {
                            case "n": text.append("\n")
                            case "t": text.append("\t")
                            case "r": text.append("\r")
                            case "\\", "\"", "'": text.append(escaped)
                            default: throw fail("unknown escape \\\(escaped) in a string")
                            }
                        } else {
                            text.append(next)
                        }
                    }
                    guard closed else { throw fail("unterminated string") }
                    tokens.append(.literal(.string(text)))
                } else if character == "`" {
                    index += 1
                    guard let end = characters[index...].firstIndex(of: "`") else { throw fail("unterminated raw string") }
                    tokens.append(.literal(.string(String(characters[index..<end]))))
                    index = end + 1
                } else if character.isNumber || ((character == "-" || character == "+" || character == ".") && index + 1 < characters.count && characters[index + 1].isNumber) {
                    var text = String(character)
                    index += 1
                    while index < characters.count, characters[index].isNumber || characters[index] == "." || characters[index] == "_" {
                        text.append(characters[index])
                        index += 1
                    }
                    let digits = text.replacingOccurrences(of: "_", with: "")
                    if let number = Int64(digits) {
                        tokens.append(.literal(.int(number)))
                    } else if let number = Double(digits) {
                        tokens.append(.literal(.double(number)))
                    } else {
                        throw fail("bad number \(text)")
                    }
                } else if isWord(character) {
                    var name = ""
                    while index < characters.count, isWord(characters[index]) {
                        name.append(characters[index])
                        index += 1
                    }
                    tokens.append(.identifier(name))
                } else {
                    throw fail("unexpected '\(character)' in an action")
                }
            }
            return tokens
        }
    }
}
