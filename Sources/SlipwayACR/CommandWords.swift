/// Splits a `build:` or `cmd:` string into words as a POSIX shell would, without running one:
/// blanks separate words, single quotes keep everything, double quotes keep blanks, and a
/// backslash escapes the next character.
enum CommandWords {
    struct Unterminated: Error {}

    static func split(_ text: String) throws(Unterminated) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            switch (quote, character) {
            case (nil, "\\"), ("\"", "\\"):
                escaped = true
                inWord = true
            case (nil, "'"), (nil, "\""):
                quote = character
                inWord = true
            case ("'", "'"), ("\"", "\""):
                quote = nil
            case (nil, _) where character.isWhitespace:
                if inWord { words.append(current) }
                current = ""
                inWord = false
            default:
                current.append(character)
                inWord = true
            }
        }
        guard quote == nil, !escaped else { throw Unterminated() }
        if inWord { words.append(current) }
        return words
    }
}
