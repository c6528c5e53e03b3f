/// The patterns of `${VAR#pattern}`, `${VAR%pattern}` and `${VAR/pattern/replacement}`:
/// `*` matches any run of characters, `?` one character, `\*`, `\?` and `\\` the character
/// itself; every other character matches itself (no bracket expressions, as in BuildKit).
struct ShellPattern {
    private enum Token: Equatable {
        case literal(Unicode.Scalar)
        case one
        case any
    }

    private let tokens: [Token]

    init(_ pattern: String) throws {
        var tokens: [Token] = []
        var scalars = Array(pattern.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            switch scalar {
            case "*": tokens.append(.any)
            case "?": tokens.append(.one)
            case "\\":
                // `\}` and `\/` only protect the brace or slash from ending the ${…} form.
                guard let escaped = scalars.first else { throw ShellWords.Failure(description: "invalid pattern (\(pattern)) in substitution: a trailing '\\'") }
                if escaped == "}" || escaped == "/" { continue }
                guard escaped == "*" || escaped == "?" || escaped == "\\" else {
                    throw ShellWords.Failure(description: "invalid pattern (\(pattern)) in substitution: invalid escape '\\\(escaped)'")
                }
                tokens.append(.literal(scalars.removeFirst()))
            default: tokens.append(.literal(scalar))
            }
        }
        self.tokens = tokens
    }

    /// Whether the pattern matches all of `text`.
    private func matches(_ text: ArraySlice<Unicode.Scalar>) -> Bool {
        // Iterative wildcard matching with one backtrack point: linear in practice.
        var t = text.startIndex, p = 0
        var star: (pattern: Int, text: Int)?
        while t < text.endIndex {
            if p < tokens.count {
                switch tokens[p] {
                case .any:
                    star = (p, t)
                    p += 1
                    continue
                case .one:
                    p += 1
                    t += 1
                    continue
                case .literal(let scalar) where scalar == text[t]:
                    p += 1
                    t += 1
                    continue
                default: break
                }
            }
            guard let last = star else { return false }
            p = last.pattern + 1
            t = last.text + 1
            star = (last.pattern, last.text + 1)
        }
        while p < tokens.count, tokens[p] == .any { p += 1 }
        return p == tokens.count
    }

    func removingPrefix(of value: String, longest: Bool) -> String {
        let scalars = Array(value.unicodeScalars)
        let lengths = longest ? Array((0...scalars.count).reversed()) : Array(0...scalars.count)
        for length in lengths where matches(scalars[..<length]) {
            return String(String.UnicodeScalarView(scalars[length...]))
        }
        return value
    }

    func removingSuffix(of value: String, longest: Bool) -> String {
        let scalars = Array(value.unicodeScalars)
        let starts = longest ? Array(0...scalars.count) : Array((0...scalars.count).reversed())
        for start in starts where matches(scalars[start...]) {
            return String(String.UnicodeScalarView(scalars[..<start]))
        }
        return value
    }

    /// Replaces the leftmost longest match (every non-overlapping one when `all`).
    func replacing(in value: String, with replacement: String, all: Bool) -> String {
        let scalars = Array(value.unicodeScalars)
        var result = String.UnicodeScalarView()
        var start = 0
        var previousEnd: Int?
        while start <= scalars.count {
            guard let end = (start...scalars.count).reversed().first(where: { matches(scalars[start..<$0]) }),
                !(end == start && previousEnd == start)  // an empty match touching the last one does not count
            else {
                if start < scalars.count { result.append(scalars[start]) }
                start += 1
                continue
            }
            result.append(contentsOf: replacement.unicodeScalars)
            if !all {
                result.append(contentsOf: scalars[end...])
                return String(result)
            }
            previousEnd = end
            if end == start {
                // An empty match: keep the next character and move on, as regexp replacement does.
                if start < scalars.count { result.append(scalars[start]) }
                start += 1
            } else {
                start = end
            }
        }
        return String(result)
    }
}
