/// Dockerfile word processing with the semantics of BuildKit's shell lexer
/// (`frontend/dockerfile/shell`), used for every instruction that expands variables.
///
/// - Quotes are removed; single quotes keep their content literal (nothing escapes inside
///   them), double quotes keep everything but `$` expansions and `\"`, `\$`, `\\`.
/// - The escape character escapes the next character; at the very end it is dropped.
/// - `$NAME`, `${NAME}`, positional (`$1`) and special parameters (`$@`, `$#`, …, all unset),
///   and the forms `${N:-w}`, `${N-w}`, `${N:+w}`, `${N+w}`, `${N:?msg}`, `${N?msg}`,
///   `${N#pat}`, `${N##pat}`, `${N%pat}`, `${N%%pat}`, `${N/pat/rep}`, `${N//pat/rep}`
///   (patterns use `*` and `?`). A word inside `${…}` ends at the first unescaped `}`.
/// - ``words(_:)`` splits on whitespace *after* expansion, as a shell does: an unquoted
///   `$PORTS` holding `80 443` gives two words, a quoted `"$PORTS"` one.
public struct ShellWords: Sendable {
    public var escape: Character
    public var environment: [String: String]
    /// Keep the quote characters in the result (BuildKit's `RawQuotes`).
    public var rawQuotes = false
    /// Keep escape characters in the result (BuildKit's `RawEscapes`).
    public var rawEscapes = false
    /// Treat quotes as ordinary characters (heredoc bodies: BuildKit's `SkipProcessQuotes`).
    public var skipProcessQuotes = false
    /// Leave references to unset variables as written (BuildKit's `SkipUnsetEnv`).
    public var skipUnsetEnvironment = false

    public init(escape: Character = "\\", environment: [String: String]) {
        self.escape = escape
        self.environment = environment
    }

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// The text as one word (whitespace kept, quotes removed, variables expanded).
    public func word(_ text: String) throws -> String {
        var lexer = lexer(text)
        return try lexer.run().result
    }

    /// The text split into words on whitespace that is neither quoted, escaped nor inside
    /// an expansion's quotes.
    public func words(_ text: String) throws -> [String] {
        var lexer = lexer(text)
        return try lexer.run().words
    }

    private func lexer(_ text: String) -> ShellLexer {
        ShellLexer(
            text: Array(text.unicodeScalars), escape: escape.unicodeScalars.first ?? "\\", environment: environment,
            rawQuotes: rawQuotes, rawEscapes: rawEscapes, processQuotes: !skipProcessQuotes, skipUnset: skipUnsetEnvironment)
    }
}

/// The scanner behind ``ShellWords``: one pass over the text's Unicode scalars (as BuildKit
/// reads runes), recursing for the words inside `${…}`.
struct ShellLexer {
    let text: [Unicode.Scalar]
    let escape: Unicode.Scalar
    let environment: [String: String]
    let rawQuotes: Bool
    var rawEscapes: Bool
    let processQuotes: Bool
    let skipUnset: Bool
    private var position = 0

    init(
        text: [Unicode.Scalar], escape: Unicode.Scalar, environment: [String: String], rawQuotes: Bool, rawEscapes: Bool,
        processQuotes: Bool, skipUnset: Bool
    ) {
        self.text = text
        self.escape = escape
        self.environment = environment
        self.rawQuotes = rawQuotes
        self.rawEscapes = rawEscapes
        self.processQuotes = processQuotes
        self.skipUnset = skipUnset
    }

    typealias Failure = ShellWords.Failure

    private var peek: Unicode.Scalar? { position < text.count ? text[position] : nil }

    private mutating func next() -> Unicode.Scalar? {
        guard position < text.count else { return nil }
        defer { position += 1 }
        return text[position]
    }

    mutating func run() throws -> (result: String, words: [String]) {
        try process(until: nil, rawEscapes: rawEscapes)
    }

    /// Collects words the way a shell splits them: expansions split, quoted text does not.
    private struct WordSplitter {
        var words: [String] = []
        var buffer = String.UnicodeScalarView()
        var inWord = false

        mutating func add(_ scalar: Unicode.Scalar) {
            if scalar.properties.isWhitespace {
                if inWord, !buffer.isEmpty {
                    words.append(String(buffer))
                    buffer = String.UnicodeScalarView()
                    inWord = false
                }
            } else {
                addRaw(scalar)
            }
        }

        mutating func addRaw(_ scalar: Unicode.Scalar) {
            buffer.append(scalar)
            inWord = true
        }

        mutating func add(_ text: String) { for scalar in text.unicodeScalars { add(scalar) } }

        mutating func addRaw(_ text: String) {
            buffer.append(contentsOf: text.unicodeScalars)
            inWord = true
        }

        mutating func finish() -> [String] {
            if !buffer.isEmpty { words.append(String(buffer)) }
            return words
        }
    }

    /// Reads to the end, or to `stop` (consumed); an unseen `stop` is an error.
    private mutating func process(until stop: Unicode.Scalar?, rawEscapes: Bool) throws -> (result: String, words: [String]) {
        let saved = self.rawEscapes
        self.rawEscapes = rawEscapes
        defer { self.rawEscapes = saved }

        var result = String.UnicodeScalarView()
        var words = WordSplitter()
        while let scalar = peek {
            if let stop, scalar == stop {
                position += 1
                return (String(result), words.finish())
            }
            switch scalar {
            case "$":
                let value = try dollar()
                result.append(contentsOf: value.unicodeScalars)
                words.add(value)
            case "<":
                let value = possibleHeredoc()
                result.append(contentsOf: value.unicodeScalars)
                words.addRaw(value)
            case "'" where processQuotes:
                let value = try singleQuoted()
                result.append(contentsOf: value.unicodeScalars)
                words.addRaw(value)
            case "\"" where processQuotes:
                let value = try doubleQuoted()
                result.append(contentsOf: value.unicodeScalars)
                words.addRaw(value)
            default:
                position += 1
                if scalar == escape {
                    if self.rawEscapes {
                        words.addRaw(scalar)
                        result.append(scalar)
                    }
                    // The escape takes the next character literally; at the end it is dropped.
                    guard let escaped = next() else { break }
                    words.addRaw(escaped)
                    result.append(escaped)
                } else {
                    words.add(scalar)
                    result.append(scalar)
                }
            }
        }
        if let stop { throw Failure(description: "unexpected end of statement while looking for matching \(Character(stop))") }
        return (String(result), words.finish())
    }

    /// Nothing escapes inside single quotes, not even a quote (`'a\'b'` is unterminated).
    private mutating func singleQuoted() throws -> String {
        var result = String.UnicodeScalarView()
        let open = next()!
        if rawQuotes { result.append(open) }
        while true {
            guard let scalar = next() else {
                throw Failure(description: "unexpected end of statement while looking for matching single-quote")
            }
            if scalar == "'" {
                if rawQuotes { result.append(scalar) }
                return String(result)
            }
            result.append(scalar)
        }
    }

    /// Inside double quotes `$` expands and the escape quotes only `"`, `$` and itself.
    private mutating func doubleQuoted() throws -> String {
        var result = String.UnicodeScalarView()
        let open = next()!
        if rawQuotes { result.append(open) }
        while true {
            guard let scalar = peek else {
                throw Failure(description: "unexpected end of statement while looking for matching double-quote")
            }
            switch scalar {
            case "\"":
                position += 1
                if rawQuotes { result.append(scalar) }
                return String(result)
            case "$":
                result.append(contentsOf: try dollar().unicodeScalars)
            default:
                position += 1
                var character = scalar
                if scalar == escape {
                    if rawEscapes { result.append(scalar) }
                    guard let following = peek else { continue }  // an escape at the very end is dropped
                    if following == "\"" || following == "$" || following == escape {
                        position += 1
                        character = following
                    }
                }
                result.append(character)
            }
        }
    }

    /// `<<` and the blanks after it stay with the word that follows (a heredoc marker).
    private mutating func possibleHeredoc() -> String {
        position += 1
        guard peek == "<" else { return "<" }
        position += 1
        var result = "<<"
        while let scalar = peek, scalar == " " || scalar == "\t" {
            result.unicodeScalars.append(scalar)
            position += 1
        }
        return result
    }

    private func lookup(_ name: String) -> String? { environment[name] }

    /// After a `$`: a name, a parameter or a `${…}` form; a `$` before anything else is literal.
    private mutating func dollar() throws -> String {
        position += 1
        guard peek == "{" else {
            let name = readName()
            if name.isEmpty { return "$" }
            guard let value = lookup(name) else { return skipUnset ? "$" + name : "" }
            return value
        }
        position += 1
        switch peek {
        case nil: throw Failure(description: "syntax error: missing '}'")
        case "{", "}", ":": throw Failure(description: "syntax error: bad substitution")
        default: break
        }
        let name = readName()
        guard var operation = next() else { throw Failure(description: "syntax error: missing '}'") }
        var written = String(Character(operation))
        switch operation {
        case "}":
            guard let value = lookup(name) else { return skipUnset ? "${\(name)}" : "" }
            return value
        case ":", "+", "-", "?", "#", "%":
            let emptyIsUnset = operation == ":"
            if emptyIsUnset {
                guard let following = next() else { throw Failure(description: "syntax error: missing '}'") }
                operation = following
                written.unicodeScalars.append(following)
            }
            let isPattern = operation == "#" || operation == "%"
            if emptyIsUnset && isPattern { throw Failure(description: "unsupported modifier (\(written)) in substitution") }
            let word = try nestedWord(until: "}", rawEscapes: isPattern)
            let value = lookup(name)
            if skipUnset && value == nil { return "${\(name)\(written)\(word)}" }
            let absent = value == nil || (emptyIsUnset && value == "")
            switch operation {
            case "-": return absent ? word : value!
            case "+": return absent ? "" : word
            case "?":
                guard let value else { throw Failure(description: "\(name): " + (word.isEmpty ? "is not allowed to be unset" : word)) }
                if emptyIsUnset && value.isEmpty {
                    throw Failure(description: "\(name): " + (word.isEmpty ? "is not allowed to be empty" : word))
                }
                return value
            case "#", "%":
                // `#`/`%` remove the shortest match, `##`/`%%` the longest.
                var pattern = word
                let longest = pattern.unicodeScalars.first == operation
                if longest { pattern.unicodeScalars.removeFirst() }
                let matcher = try ShellPattern(pattern)
                return operation == "#"
                    ? matcher.removingPrefix(of: value ?? "", longest: longest)
                    : matcher.removingSuffix(of: value ?? "", longest: longest)
            default:
                throw Failure(description: "unsupported modifier (\(written)) in substitution")
            }
        case "/":
            let replaceAll = peek == "/"
            if replaceAll { position += 1 }
            let pattern = try nestedWord(until: "/", rawEscapes: true, missing: "syntax error: missing '/' in ${}")
            let replacement = try nestedWord(until: "}", rawEscapes: true)
            guard let value = lookup(name) else {
                return skipUnset ? "${\(name)/\(pattern)/\(replacement)}" : ""
            }
            return try ShellPattern(pattern).replacing(in: value, with: replacement, all: replaceAll)
        default:
            throw Failure(description: "unsupported modifier (\(written)) in substitution")
        }
    }

    private mutating func nestedWord(
        until stop: Unicode.Scalar, rawEscapes: Bool, missing: String = "syntax error: missing '}'"
    ) throws -> String {
        do {
            return try process(until: stop, rawEscapes: rawEscapes).result
        } catch let failure as Failure {
            throw peek == nil ? Failure(description: missing) : failure
        }
    }

    /// A name (letters, digits, `_`), a run of digits (a positional parameter) or one
    /// special parameter character.
    private mutating func readName() -> String {
        var name = String.UnicodeScalarView()
        while let scalar = peek {
            if name.isEmpty, scalar.properties.numericType == .decimal {
                while let digit = peek, digit.properties.numericType == .decimal {
                    name.append(digit)
                    position += 1
                }
                return String(name)
            }
            if name.isEmpty, "@*#?-$!0".unicodeScalars.contains(scalar) {
                position += 1
                return String(scalar)
            }
            guard scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal || scalar == "_" else { break }
            name.append(scalar)
            position += 1
        }
        return String(name)
    }
}
