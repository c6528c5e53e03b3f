import Foundation

/// Go's `fmt` as templates use it: `print` (Sprint), `printf` with the common verbs, `%q`
/// quoting, and JSON for `toJson`.
enum GoPrintf {
    /// Sprint: spaces between operands when neither side is a string.
    static func sprint(_ values: [TemplateValue]) -> String {
        var text = ""
        for (index, value) in values.enumerated() {
            if index > 0, !isString(values[index - 1]), !isString(value) { text += " " }
            text += value.printed
        }
        return text
    }

    private static func isString(_ value: TemplateValue) -> Bool {
        if case .string = value { return true }
        return false
    }

    /// `%s %v %d %q %t %f %x %X %%`, with an optional width and precision (`%5s`, `%.2f`,
    /// `%-8s`); a missing or extra argument is shown as Go shows it.
    static func format(_ format: String, _ arguments: [TemplateValue]) -> String {
        var output = ""
        var remaining = arguments[...]
        var characters = format[...]
        while let percent = characters.firstIndex(of: "%") {
            output += characters[..<percent]
            characters = characters[characters.index(after: percent)...]
            var flags = ""
            while let next = characters.first, "-+ 0#.0123456789".contains(next) {
                flags.append(next)
                characters = characters.dropFirst()
            }
            guard let verb = characters.first else {
                output += "%!(NOVERB)"
                break
            }
            characters = characters.dropFirst()
            if verb == "%" {
                output += "%"
                continue
            }
            guard let value = remaining.popFirst() else {
                output += "%!\(verb)(MISSING)"
                continue
            }
            output += pad(render(verb, flags: flags, value), flags: flags)
        }
        output += characters
        if !remaining.isEmpty {
            output += "%!(EXTRA " + remaining.map { "\($0.typeName)=\($0.printed)" }.joined(separator: ", ") + ")"
        }
        return output
    }

    private static func render(_ verb: Character, flags: String, _ value: TemplateValue) -> String {
        let precision = flags.split(separator: ".", maxSplits: 1).dropFirst().first.flatMap { Int($0) }
        switch verb {
        case "s", "v": return value.printed
        case "q": return quoted(value.printed)
        case "t": return value.printed
        case "d":
            if case .int(let number) = value { return String(number) }
            return "%!d(\(value.typeName)=\(value.printed))"
        case "f", "F":
            let number: Double
            switch value {
            case .double(let x): number = x
            case .int(let x): number = Double(x)
            default: return "%!f(\(value.typeName)=\(value.printed))"
            }
            return String(format: "%.\(precision ?? 6)f", number)
        case "x", "X":
            let text: String
            switch value {
            case .int(let number): text = String(number, radix: 16)
            default: text = value.printed.utf8.map { String(format: "%02x", $0) }.joined()
            }
            return verb == "X" ? text.uppercased() : text
        default:
            return "%!\(verb)(\(value.typeName)=\(value.printed))"
        }
    }

    private static func pad(_ text: String, flags: String) -> String {
        let widthText = flags.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let digits = widthText.filter(\.isNumber)
        guard let width = Int(digits), text.count < width else { return text }
        let padding = String(repeating: widthText.hasPrefix("0") && !widthText.contains("-") ? "0" : " ", count: width - text.count)
        return widthText.contains("-") ? text + padding : padding + text
    }

    /// Go's `%q`: double quotes, with backslash escapes.
    static func quoted(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\t": output += "\\t"
            case "\r": output += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    output += String(format: "\\x%02x", scalar.value)
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        return output + "\""
    }

    static func json(_ value: TemplateValue) -> String {
        switch value {
        case .string(let text): quoted(text)
        case .int(let number): String(number)
        case .double(let number): GoFormat.float(number)
        case .bool(let flag): flag ? "true" : "false"
        case .null: "null"
        case .time(let seconds): quoted(GoTimeLayout.format(seconds, layout: "2006-01-02T15:04:05.999999999Z07:00"))
        case .list(let items): "[" + items.map(json).joined(separator: ",") + "]"
        case .map(let fields): "{" + fields.sorted { $0.key < $1.key }.map { quoted($0.key) + ":" + json($0.value) }.joined(separator: ",") + "}"
        }
    }
}
