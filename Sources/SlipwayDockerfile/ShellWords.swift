/// Dockerfile word processing, as BuildKit's shell lexer does it for ENV, LABEL, ARG, COPY,
/// ADD, EXPOSE, USER, WORKDIR, VOLUME, STOPSIGNAL and FROM: quotes are removed (single quotes
/// keep their content literal), the escape character escapes the next character, and
/// `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`,
/// `${VAR:?message}`, `${VAR?message}` are expanded from `environment`.
public struct ShellWords: Sendable {
    public var escape: Character
    public var environment: [String: String]

    public init(escape: Character = "\\", environment: [String: String]) {
        self.escape = escape
        self.environment = environment
    }

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// The text as one word (whitespace kept, quotes removed, variables expanded).
    public func word(_ text: String) throws -> String { try process(text, split: false).joined() }

    /// The text split into words on unquoted whitespace.
    public func words(_ text: String) throws -> [String] { try process(text, split: true) }

    private func process(_ text: String, split: Bool) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            switch character {
            case escape:
                guard let next = characters.popFirst() else {
                    current.append(character)
                    continue
                }
                current.append(next)
                inWord = true
            case "'":
                // Nothing escapes inside single quotes, not even a quote (`'a\'b'` is unterminated).
                var closed = false
                while let next = characters.popFirst() {
                    if next == "'" { closed = true; break }
                    current.append(next)
                }
                guard closed else { throw Failure(description: "unexpected end of statement while looking for matching single-quote") }
                inWord = true
            case "\"":
                var closed = false
                while let next = characters.popFirst() {
                    if next == "\"" { closed = true; break }
                    if next == escape, let escaped = characters.first, escaped == "\"" || escaped == escape || escaped == "$" {
                        current.append(characters.removeFirst())
                    } else if next == "$" {
                        current += try variable(&characters)
                    } else {
                        current.append(next)
                    }
                }
                guard closed else { throw Failure(description: "unexpected end of statement while looking for matching double-quote") }
                inWord = true
            case "$":
                current += try variable(&characters)
                inWord = true
            case let c where split && c.isWhitespace:
                if inWord { words.append(current) }
                current = ""
                inWord = false
            default:
                current.append(character)
                inWord = true
            }
        }
        if inWord || !split { words.append(current) }
        return words
    }

    /// After a `$`: a name or a `${...}` form; a lone `$` stays literal.
    private func variable(_ characters: inout ArraySlice<Character>) throws -> String {
        guard let first = characters.first else { return "$" }
        if first == "{" {
            characters.removeFirst()
            var name = ""
            while let c = characters.first, c.isLetter || c.isNumber || c == "_" {
                name.append(c)
                characters.removeFirst()
            }
            guard !name.isEmpty else { throw Failure(description: "bad substitution: '${' must be followed by a variable name") }
            if characters.first == "}" {
                characters.removeFirst()
                return environment[name] ?? ""
            }
            var modifier = ""
            if characters.first == ":" { modifier.append(characters.removeFirst()) }
            guard let operation = characters.first, "-+?".contains(operation) else {
                throw Failure(description: "bad substitution in ${\(name)...}: expected }, :-, -, :+, +, :? or ?")
            }
            modifier.append(characters.removeFirst())
            // The word runs to the matching brace; it is itself expanded.
            var depth = 1
            var word = ""
            while let c = characters.popFirst() {
                if c == "{" { depth += 1 }
                if c == "}" {
                    depth -= 1
                    if depth == 0 { break }
                }
                word.append(c)
            }
            guard depth == 0 else { throw Failure(description: "missing } in ${\(name)\(modifier)...") }
            let value = environment[name]
            let isSet = value != nil
            let isSetAndNonEmpty = !(value ?? "").isEmpty
            let present = modifier.hasPrefix(":") ? isSetAndNonEmpty : isSet
            switch modifier.last! {
            case "-": return present ? value! : try self.word(word)
            case "+": return present ? try self.word(word) : ""
            default:
                guard present else { throw Failure(description: word.isEmpty ? "\(name) is not set" : try self.word(word)) }
                return value!
            }
        }
        guard first.isLetter || first == "_" else { return "$" }
        var name = ""
        while let c = characters.first, c.isLetter || c.isNumber || c == "_" {
            name.append(c)
            characters.removeFirst()
        }
        return environment[name] ?? ""
    }
}
