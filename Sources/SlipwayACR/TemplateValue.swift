import Foundation

/// A value a template works with: what `.Run`, `.Values` and `.Secrets` hold, and what its
/// functions take and return. Mirrors the dynamic values Go's text/template sees in acb
/// (strings, numbers, booleans, lists, maps, times, and nothing).
public indirect enum TemplateValue: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case list([TemplateValue])
    case map([String: TemplateValue])
    /// A point in time (`now`), in seconds since 1970.
    case time(Double)
    /// Go's nil: a key that is not there.
    case null

    /// Go's truth: false, 0, nil and empty strings, lists and maps are false.
    var isTruthy: Bool {
        switch self {
        case .string(let text): !text.isEmpty
        case .int(let number): number != 0
        case .double(let number): number != 0
        case .bool(let flag): flag
        case .list(let items): !items.isEmpty
        case .map(let fields): !fields.isEmpty
        case .time: true
        case .null: false
        }
    }

    /// How `{{ value }}` prints it: Go's `%v`, with nil as nothing (acb removes `<no value>`).
    var printed: String {
        switch self {
        case .string(let text): text
        case .int(let number): String(number)
        case .double(let number): GoFormat.float(number)
        case .bool(let flag): flag ? "true" : "false"
        case .list(let items): "[" + items.map(\.printed).joined(separator: " ") + "]"
        case .map(let fields): "map[" + fields.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.printed)" }.joined(separator: " ") + "]"
        case .time(let seconds): GoTimeLayout.format(seconds, layout: "2006-01-02 15:04:05.999999999 -0700 MST")
        case .null: ""
        }
    }

    var typeName: String {
        switch self {
        case .string: "string"
        case .int: "int"
        case .double: "float64"
        case .bool: "bool"
        case .list: "list"
        case .map: "map"
        case .time: "time"
        case .null: "nil"
        }
    }
}

/// Go's number printing, as `%v` does it.
enum GoFormat {
    static func float(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 1e21 { return String(format: "%.0f", number) }
        return String(number)
    }
}
