import SlipwayKernel
import Foundation

/// A Dockerfile read by the grammar alone: parser directives, the escape character and one
/// ``SyntaxNode`` per instruction.
public struct SyntaxTree: Sendable, Hashable {
    /// `# syntax=`, `# escape=`, `# check=`: keys lowercased.
    public var directives: [String: String]
    public var escape: Character
    public var nodes: [SyntaxNode]

    /// - Throws: ``DockerfileError`` naming the file and line.
    public static func parse(_ text: String, file: String = "Dockerfile") throws -> SyntaxTree {
        var parser = SyntaxParser(text: text, file: file)
        return try parser.parse()
    }

    /// One s-expression per instruction, as BuildKit's parser test files write them.
    public var sExpressions: String { nodes.map { "(\($0.sExpression))" }.joined(separator: "\n") }
}

/// The line grammar with BuildKit's rules: directives only in the leading comment lines,
/// comments and blank lines dropped even inside continuations, a line continues when it
/// ends in one unescaped escape character, flags are the leading `--words` of any
/// instruction, each keyword splits its arguments its own way, and heredoc bodies follow
/// the line that names them.
struct SyntaxParser {
    /// The lines with their line ends, so heredoc bodies keep them.
    private let lines: [String]
    private let file: String
    private var index = 0
    private var escape: Unicode.Scalar = "\\"
    private var directives: [String: String] = [:]
    private var directivesDone = false

    init(text: String, file: String) {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            current.append(scalar)
            if scalar == "\n" {
                lines.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        if let first = lines.first, first.unicodeScalars.first == "\u{FEFF}" {
            lines[0] = String(String.UnicodeScalarView(first.unicodeScalars.dropFirst()))
        }
        self.lines = lines
        self.file = file
    }

    private func error(_ line: Int, _ message: String) -> DockerfileError {
        DockerfileError(location: SourceLocation(file: file, line: line), message: message)
    }

    mutating func parse() throws -> SyntaxTree {
        var nodes: [SyntaxNode] = []
        while index < lines.count {
            let raw = lines[index]
            index += 1
            let startLine = index
            var (text, ends) = continuation(try processed(raw, line: startLine, stripLeadingSpace: true))
            if ends && text.isEmpty { continue }
            while !ends, index < lines.count {
                let next = lines[index]
                index += 1
                let content = try processed(next, line: index, stripLeadingSpace: false)
                if Self.isComment(next) || content.allSatisfy(\.isWhitespace) { continue }
                let (more, lineEnds) = continuation(content)
                text += more
                ends = lineEnds
            }
            var node = try self.node(from: text, line: startLine)
            if Self.canContainHeredocs(node), text.contains("<<") {
                node.heredocs = try readHeredocs(declaredIn: text, line: startLine)
            }
            node.startLine = startLine
            node.endLine = index
            nodes.append(node)
        }
        guard !nodes.isEmpty else { throw error(max(lines.count, 1), "file with no instructions") }
        return SyntaxTree(directives: directives, escape: Character(escape), nodes: nodes)
    }

    // MARK: Lines

    private static func isComment(_ line: String) -> Bool { line.drop(while: \.isWhitespace).hasPrefix("#") }

    private static func trimmingLineEnd(_ line: String) -> String {
        var scalars = line.unicodeScalars[...]
        while let last = scalars.last, last == "\n" || last == "\r" { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }

    /// The line without its end, a comment becomes empty; parser directives are read here
    /// while the file has had nothing but directives.
    private mutating func processed(_ raw: String, line: Int, stripLeadingSpace: Bool) throws -> String {
        var text = Self.trimmingLineEnd(raw)
        if stripLeadingSpace { text = String(text.drop(while: \.isWhitespace)) }
        try readDirective(text, line: line)
        return Self.isComment(text) ? "" : text
    }

    private mutating func readDirective(_ text: String, line: Int) throws {
        guard !directivesDone else { return }
        guard text.hasPrefix("#") else {
            directivesDone = true
            return
        }
        let body = text.dropFirst().drop(while: \.isWhitespace)
        guard let equals = body.firstIndex(of: "="),
            case let key = body[..<equals].trimmingCharacters(in: .whitespaces),
            let first = key.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic,
            key.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }),
            case let value = body[body.index(after: equals)...].trimmingCharacters(in: .whitespaces), !value.isEmpty,
            ["syntax", "escape", "check"].contains(key.lowercased())
        else {
            directivesDone = true
            return
        }
        let name = key.lowercased()
        guard directives[name] == nil else { throw error(line, "only one \(name) parser directive can be used") }
        if name == "escape" {
            guard value == "\\" || value == "`" else { throw error(line, "invalid escape token '\(value)' does not match ` or \\") }
            escape = value.unicodeScalars.first!
        }
        directives[name] = value
    }

    /// Whether the line continues: it ends (before blanks) in an escape that is not itself
    /// escaped. The escape and the blanks after it are removed.
    private func continuation(_ text: String) -> (text: String, ends: Bool) {
        var scalars = Array(text.unicodeScalars)
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        guard scalars.last == escape, scalars.count == 1 || scalars[scalars.count - 2] != escape else { return (text, true) }
        scalars.removeLast()
        return (String(String.UnicodeScalarView(scalars)), false)
    }

    // MARK: Instructions

    private static let keywordSplitters: Set<String> = [
        "add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck", "label", "maintainer", "onbuild",
        "run", "shell", "stopsignal", "user", "volume", "workdir",
    ]

    private static func isBlank(_ scalar: Unicode.Scalar) -> Bool { "\t\u{0B}\u{0C}\r ".unicodeScalars.contains(scalar) }

    private func node(from line: String, line number: Int) throws -> SyntaxNode {
        let trimmed = Array(line.trimmingCharacters(in: .whitespacesAndNewlines).unicodeScalars)
        let keywordEnd = trimmed.firstIndex(where: Self.isBlank) ?? trimmed.endIndex
        let keyword = String(String.UnicodeScalarView(trimmed[..<keywordEnd]))
        var rest = trimmed[keywordEnd...]
        while let first = rest.first, Self.isBlank(first) { rest.removeFirst() }
        let (flags, argumentScalars) = keywordEnd == trimmed.endIndex ? ([], rest) : extractFlags(rest)
        let argumentText = String(String.UnicodeScalarView(argumentScalars)).trimmingCharacters(in: .whitespacesAndNewlines)
        let arguments: SyntaxNode.Arguments
        do {
            arguments = try self.arguments(of: keyword.lowercased(), argumentText, line: number)
        } catch var error as DockerfileError where error.instruction == nil {
            error.instruction = keyword.uppercased()
            throw error
        }
        return SyntaxNode(
            keyword: keyword, flags: flags, arguments: arguments, argumentText: argumentText, heredocs: [], original: line,
            startLine: number, endLine: number)
    }

    /// The leading `--flag[=value]` words (quotes removed, escapes applied); a lone `--` ends them.
    private func extractFlags(_ text: ArraySlice<Unicode.Scalar>) -> ([String], ArraySlice<Unicode.Scalar>) {
        var flags: [String] = []
        var position = text.startIndex
        while true {
            while position < text.endIndex, text[position].properties.isWhitespace { position += 1 }
            guard position + 1 < text.endIndex, text[position] == "-", text[position + 1] == "-" else {
                return (flags, text[position...])
            }
            var word = String.UnicodeScalarView()
            var quote: Unicode.Scalar?
            var quoted = false
            while position < text.endIndex {
                let scalar = text[position]
                if quote == nil && scalar.properties.isWhitespace { break }
                position += 1
                if let open = quote {
                    if scalar == open {
                        quote = nil
                        continue
                    }
                } else if scalar == "'" || scalar == "\"" {
                    quote = scalar
                    quoted = true
                    continue
                }
                if scalar == escape {
                    guard position < text.endIndex else { continue }  // an escape at the end is dropped
                    word.append(text[position])
                    position += 1
                    continue
                }
                word.append(scalar)
            }
            let flag = String(word)
            if flag == "--" { return (flags, text[position...]) }
            if quoted || !flag.isEmpty { flags.append(flag) }
        }
    }

    private func arguments(of keyword: String, _ text: String, line: Int) throws -> SyntaxNode.Arguments {
        switch keyword {
        case "run", "cmd", "entrypoint", "shell": return try maybeJSON(text, line: line)
        case "add", "copy", "volume":
            if let array = try jsonArray(text, line: line) { return .json(array) }
            return whitespaceDelimited(text)
        case "expose", "from": return whitespaceDelimited(text)
        case "env", "label": return try nameValues(text, keyword: keyword.uppercased(), line: line)
        case "arg": return .words(parseWords(text))
        case "maintainer", "stopsignal", "user", "workdir": return text.isEmpty ? .none : .text(text)
        case "healthcheck":
            let scalars = Array(text.unicodeScalars)
            let kindEnd = scalars.firstIndex(where: \.properties.isWhitespace) ?? scalars.endIndex
            guard kindEnd > 0 else { return .none }
            let command = String(String.UnicodeScalarView(scalars[kindEnd...].drop(while: \.properties.isWhitespace)))
            return .healthcheck(kind: String(String.UnicodeScalarView(scalars[..<kindEnd])), command: try maybeJSON(command, line: line))
        case "onbuild":
            guard !text.isEmpty else { return .nested(nil) }
            var child = try node(from: text, line: line)
            child.startLine = line
            return .nested(child)
        default:
            // Unknown keywords are the semantic layer's to refuse, with their line.
            return text.isEmpty ? .none : .text(text)
        }
    }

    private func maybeJSON(_ text: String, line: Int) throws -> SyntaxNode.Arguments {
        guard !text.isEmpty else { return .none }
        if let array = try jsonArray(text, line: line) { return .json(array) }
        return .text(text)
    }

    /// A JSON array of strings; nil when the text is not a JSON array at all (then it is the
    /// shell form). Valid JSON holding something else is an error, not shell form.
    private func jsonArray(_ text: String, line: Int) throws -> [String]? {
        let trimmed = text.drop(while: \.isWhitespace)
        guard trimmed.hasPrefix("["), let data = trimmed.data(using: .utf8),
            let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [Any]
        else { return nil }
        let strings = value.compactMap { $0 as? String }
        guard strings.count == value.count else {
            throw error(line, "when using JSON array syntax, arrays must be comprised of strings only")
        }
        return strings
    }

    private func whitespaceDelimited(_ text: String) -> SyntaxNode.Arguments {
        guard !text.isEmpty else { return .none }
        return .words(text.unicodeScalars.split(whereSeparator: Self.isBlank).map { String(String.UnicodeScalarView($0)) })
    }

    /// ENV and LABEL: `key=value ...`, or the legacy `KEY name value with spaces`.
    private func nameValues(_ text: String, keyword: String, line: Int) throws -> SyntaxNode.Arguments {
        let words = parseWords(text)
        guard let first = words.first else { return .none }
        guard first.contains("=") else {
            let scalars = Array(text.unicodeScalars)
            guard let gap = scalars.firstIndex(where: Self.isBlank) else { throw error(line, "must have two arguments (\(keyword) name=value)") }
            let valueStart = scalars[gap...].firstIndex { !Self.isBlank($0) } ?? scalars.endIndex
            return .pairs([
                .init(
                    key: String(String.UnicodeScalarView(scalars[..<gap])),
                    value: String(String.UnicodeScalarView(scalars[valueStart...])), separator: "")
            ])
        }
        return .pairs(
            try words.map { word in
                guard let equals = word.firstIndex(of: "=") else {
                    throw error(line, "Syntax error - can't find = in \"\(word)\". Must be of the form: name=value")
                }
                return .init(key: String(word[..<equals]), value: String(word[word.index(after: equals)...]), separator: "=")
            })
    }

    /// Words separated by unquoted blanks, quotes and escapes kept for the expansion later.
    private func parseWords(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var words: [String] = []
        var word = String.UnicodeScalarView()
        var quote: Unicode.Scalar?
        var inWord = false
        var blankAllowed = false
        var position = 0
        func finish() {
            if blankAllowed || !word.isEmpty { words.append(String(word)) }
            word = String.UnicodeScalarView()
            blankAllowed = false
        }
        while position < scalars.count {
            let scalar = scalars[position]
            position += 1
            if let open = quote {
                if scalar == open { quote = nil }
                if scalar == escape && open != "'" {
                    guard position < scalars.count else {
                        quote = nil
                        continue
                    }
                    word.append(scalar)
                    word.append(scalars[position])
                    position += 1
                    continue
                }
                word.append(scalar)
                continue
            }
            if scalar.properties.isWhitespace {
                if inWord { finish() }
                inWord = false
                continue
            }
            inWord = true
            if scalar == "'" || scalar == "\"" {
                quote = scalar
                blankAllowed = true
            }
            if scalar == escape {
                guard position < scalars.count else { continue }  // an escape at the end is dropped
                word.append(scalar)
                word.append(scalars[position])
                position += 1
                continue
            }
            word.append(scalar)
        }
        if inWord { finish() }
        return words
    }

    // MARK: Heredocs

    private static func canContainHeredocs(_ node: SyntaxNode) -> Bool {
        var node = node
        if node.keyword.lowercased() == "onbuild", case .nested(let child?) = node.arguments { node = child }
        guard ["run", "copy", "add"].contains(node.keyword.lowercased()) else { return false }
        if case .json = node.arguments { return false }
        return true
    }

    /// The heredoc markers among the line's words (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`;
    /// not inside quotes, not `$((1<<2))`), and their bodies from the following lines.
    private mutating func readHeredocs(declaredIn line: String, line number: Int) throws -> [SyntaxNode.Heredoc] {
        var lexer = ShellWords(environment: [:])
        lexer.rawQuotes = true
        lexer.rawEscapes = true
        lexer.skipUnsetEnvironment = true
        let words = (try? lexer.words(line)) ?? []
        var heredocs: [SyntaxNode.Heredoc] = []
        for word in words {
            guard var heredoc = try Self.heredocMarker(word) else { continue }
            var body = ""
            var terminated = false
            while index < lines.count {
                let raw = lines[index]
                index += 1
                var candidate = Self.trimmingLineEnd(raw)
                if heredoc.stripsTabs { candidate = String(candidate.drop { $0 == "\t" }) }
                if candidate == heredoc.name {
                    terminated = true
                    break
                }
                body += heredoc.stripsTabs ? String(raw.drop { $0 == "\t" }) : raw
            }
            guard terminated else { throw error(number, "unterminated heredoc <<\(heredoc.name) (no line '\(heredoc.name)' follows)") }
            heredoc.content = body
            heredocs.append(heredoc)
        }
        return heredocs
    }

    /// A word of the form `[fd]<<[-][blanks]name` with a name that is one word.
    static func heredocMarker(_ word: String) throws -> SyntaxNode.Heredoc? {
        var scalars = word.unicodeScalars[...]
        var digits = ""
        while let first = scalars.first, ("0"..."9").contains(first) {
            digits.unicodeScalars.append(first)
            scalars.removeFirst()
        }
        guard scalars.starts(with: "<<".unicodeScalars) else { return nil }
        scalars.removeFirst(2)
        let stripsTabs = scalars.first == "-"
        if stripsTabs { scalars.removeFirst() }
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        let rest = String(String.UnicodeScalarView(scalars))
        guard !rest.isEmpty, !rest.contains("<") else { return nil }
        var lexer = ShellWords(environment: [:])
        lexer.skipUnsetEnvironment = true
        let names = try lexer.words(rest)
        guard names.count == 1 else { return nil }
        lexer.rawQuotes = true
        let raw = try lexer.words(rest)
        func quotes(_ text: String) -> Int { text.filter { $0 == "'" || $0 == "\"" }.count }
        return SyntaxNode.Heredoc(
            name: names[0], content: "", expands: quotes(names[0]) == quotes(raw[0]), stripsTabs: stripsTabs,
            fileDescriptor: Int(digits) ?? 0)
    }
}
