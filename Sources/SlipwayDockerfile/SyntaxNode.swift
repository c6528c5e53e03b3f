/// One instruction as the Dockerfile grammar reads it, before any meaning is given to it:
/// the keyword as written, its `--flags`, and its arguments split the way that keyword splits
/// them (quotes and escapes still in place). This is the layer BuildKit's parser produces;
/// ``Dockerfile/parse(_:file:)`` gives it meaning and refuses what Slipway does not do.
public struct SyntaxNode: Sendable, Hashable {
    public struct KeyValue: Sendable, Hashable {
        public var key: String
        public var value: String
        /// `=` for `key=value`; empty for the legacy `ENV key value` form.
        public var separator: String
    }

    public indirect enum Arguments: Sendable, Hashable {
        case none
        /// The rest of the line as one string (RUN/CMD/ENTRYPOINT/SHELL shell form, USER, WORKDIR, …).
        case text(String)
        /// A JSON array of strings (the exec form, or COPY/ADD/VOLUME's JSON form).
        case json([String])
        /// Whitespace-separated words (FROM, EXPOSE, COPY, ADD, VOLUME, ARG).
        case words([String])
        /// ENV and LABEL.
        case pairs([KeyValue])
        /// HEALTHCHECK: its type (`CMD`, `NONE`) and the command.
        case healthcheck(kind: String, command: Arguments)
        /// ONBUILD: the instruction it registers (nil when nothing follows the keyword).
        case nested(SyntaxNode?)
    }

    public struct Heredoc: Sendable, Hashable {
        public var name: String
        /// Body lines, each ending in a newline; leading tabs already removed for `<<-`.
        public var content: String
        /// False when the marker was quoted (`<<"EOF"`, `<<'EOF'`): no expansion.
        public var expands: Bool
        /// `<<-`: leading tabs of the body (and terminator) are removed.
        public var stripsTabs: Bool
        /// `3<<EOF`: the file descriptor the body feeds (0 when none was written).
        public var fileDescriptor: Int
    }

    public var keyword: String
    public var flags: [String]
    public var arguments: Arguments
    /// Everything after the keyword and flags, trimmed.
    public var argumentText: String
    public var heredocs: [Heredoc]
    /// The logical line (continuations joined, comments removed).
    public var original: String
    public var startLine: Int
    public var endLine: Int

    /// The s-expression BuildKit's parser tests print, e.g. `(copy ["--from=a"] "x" "/y")`:
    /// a stable rendering of exactly what the grammar read.
    public var sExpression: String {
        var text = keyword.lowercased()
        if !flags.isEmpty { text += " [" + flags.map(Self.goQuoted).joined(separator: " ") + "]" }
        text += Self.render(arguments)
        return text
    }

    private static func render(_ arguments: Arguments) -> String {
        switch arguments {
        case .none: ""
        case .text(let value): " " + goQuoted(value)
        case .json(let values), .words(let values): values.map { " " + goQuoted($0) }.joined()
        case .pairs(let pairs): pairs.map { " \(goQuoted($0.key)) \(goQuoted($0.value)) \(goQuoted($0.separator))" }.joined()
        case .healthcheck(let kind, let command): " " + goQuoted(kind) + render(command)
        case .nested(let node): node.map { " (\($0.sExpression))" } ?? ""
        }
    }

    /// A double-quoted string escaped as Go's `strconv.Quote` does, so renderings compare
    /// byte for byte with BuildKit's.
    static func goQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{07}": out += "\\a"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{0B}": out += "\\v"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else if scalar.value >= 0x80, !isPrintable(scalar) {
                    out += scalar.value > 0xFFFF ? "\\U" + hex(scalar.value, width: 8) : "\\u" + hex(scalar.value, width: 4)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator: false
        case .spaceSeparator: scalar == " "
        default: true
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
