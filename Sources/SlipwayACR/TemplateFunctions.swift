public import Foundation

/// The functions templates may call: text/template's built-ins and the Sprig functions
/// acr-task.yaml files use. A function that is not here is an error naming it and the line.
public struct TemplateFunctions: Sendable {
    public struct Failure: Error, Sendable {
        public var message: String
        init(_ message: String) { self.message = message }
    }

    public typealias Function = @Sendable ([TemplateValue]) throws -> TemplateValue

    public private(set) var table: [String: Function] = [:]

    /// - Parameter now: what `now` returns, in seconds since 1970 (a test's fixed time).
    public init(now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        table = Self.builtins.merging(Self.sprig) { first, _ in first }
        table["now"] = { arguments in
            guard arguments.isEmpty else { throw Failure("now takes no arguments") }
            return .time(now())
        }
    }

    // MARK: Helpers

    static func count(_ name: String, _ arguments: [TemplateValue], _ expected: Int) throws(Failure) {
        guard arguments.count == expected else {
            throw Failure("wrong number of args for \(name): want \(expected) got \(arguments.count)")
        }
    }

    static func string(_ value: TemplateValue) -> String { value.printed }

    static func strings(_ name: String, _ arguments: [TemplateValue], _ expected: Int) throws(Failure) -> [String] {
        try count(name, arguments, expected)
        return arguments.map(\.printed)
    }

    static func number(_ value: TemplateValue) throws(Failure) -> Double {
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        case .string(let text): if let number = Double(text) { return number }
        default: break
        }
        throw Failure("\(value.typeName) \(value.printed) is not a number")
    }

    static func compare(_ name: String, _ arguments: [TemplateValue], _ test: @escaping @Sendable (Int) -> Bool) throws(Failure) -> TemplateValue {
        try count(name, arguments, 2)
        switch (arguments[0], arguments[1]) {
        case (.string(let a), .string(let b)): return .bool(test(a < b ? -1 : a == b ? 0 : 1))
        default:
            let a = try number(arguments[0])
            let b = try number(arguments[1])
            return .bool(test(a < b ? -1 : a == b ? 0 : 1))
        }
    }

    static func equal(_ a: TemplateValue, _ b: TemplateValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): Double(x) == y
        default: a == b
        }
    }

    // MARK: text/template

    static let builtins: [String: Function] = [
        "and": { arguments in
            guard let last = arguments.last else { throw Failure("and needs arguments") }
            return arguments.first { !$0.isTruthy } ?? last
        },
        "or": { arguments in
            guard let last = arguments.last else { throw Failure("or needs arguments") }
            return arguments.first { $0.isTruthy } ?? last
        },
        "not": { arguments in
            try count("not", arguments, 1)
            return .bool(!arguments[0].isTruthy)
        },
        "eq": { arguments in
            guard arguments.count >= 2 else { throw Failure("eq needs at least two arguments") }
            return .bool(arguments.dropFirst().contains { equal(arguments[0], $0) })
        },
        "ne": { arguments in
            try count("ne", arguments, 2)
            return .bool(!equal(arguments[0], arguments[1]))
        },
        "lt": { arguments in try compare("lt", arguments) { $0 < 0 } },
        "le": { arguments in try compare("le", arguments) { $0 <= 0 } },
        "gt": { arguments in try compare("gt", arguments) { $0 > 0 } },
        "ge": { arguments in try compare("ge", arguments) { $0 >= 0 } },
        "len": { arguments in
            try count("len", arguments, 1)
            switch arguments[0] {
            case .string(let text): return .int(Int64(text.utf8.count))
            case .list(let items): return .int(Int64(items.count))
            case .map(let fields): return .int(Int64(fields.count))
            case let other: throw Failure("len of \(other.typeName)")
            }
        },
        "index": { arguments in
            guard var value = arguments.first else { throw Failure("index needs a value") }
            for key in arguments.dropFirst() {
                switch (value, key) {
                case (.list(let items), .int(let position)):
                    guard position >= 0, position < items.count else { throw Failure("index out of range: \(position)") }
                    value = items[Int(position)]
                case (.map(let fields), .string(let name)): value = fields[name] ?? .null
                case (.null, _): value = .null
                default: throw Failure("can't index \(value.typeName) with \(key.typeName)")
                }
            }
            return value
        },
        "print": { arguments in .string(GoPrintf.sprint(arguments)) },
        "println": { arguments in .string(arguments.map(\.printed).joined(separator: " ") + "\n") },
        "printf": { arguments in
            guard case .string(let format)? = arguments.first else { throw Failure("printf needs a format string first") }
            return .string(GoPrintf.format(format, Array(arguments.dropFirst())))
        },
    ]

    // MARK: Sprig

    static let sprig: [String: Function] = [
        "default": { arguments in
            guard arguments.count == 1 || arguments.count == 2 else { throw Failure("default takes a default and a value") }
            let given = arguments.count == 2 ? arguments[1] : .null
            return given.isTruthy ? given : arguments[0]
        },
        "empty": { arguments in
            try count("empty", arguments, 1)
            return .bool(!arguments[0].isTruthy)
        },
        "coalesce": { arguments in arguments.first { $0.isTruthy } ?? .null },
        "ternary": { arguments in
            try count("ternary", arguments, 3)
            return arguments[2].isTruthy ? arguments[0] : arguments[1]
        },
        "quote": { arguments in .string(arguments.filter { $0 != .null }.map { GoPrintf.quoted($0.printed) }.joined(separator: " ")) },
        "squote": { arguments in .string(arguments.filter { $0 != .null }.map { "'\($0.printed)'" }.joined(separator: " ")) },
        "upper": { arguments in .string(try strings("upper", arguments, 1)[0].uppercased()) },
        "lower": { arguments in .string(try strings("lower", arguments, 1)[0].lowercased()) },
        "title": { arguments in .string(try strings("title", arguments, 1)[0].capitalized) },
        "trim": { arguments in .string(try strings("trim", arguments, 1)[0].trimmingCharacters(in: .whitespacesAndNewlines)) },
        "trimAll": { arguments in
            let values = try strings("trimAll", arguments, 2)
            return .string(values[1].trimmingCharacters(in: CharacterSet(charactersIn: values[0])))
        },
        "trimPrefix": { arguments in
            let values = try strings("trimPrefix", arguments, 2)
            return .string(values[1].hasPrefix(values[0]) ? String(values[1].dropFirst(values[0].count)) : values[1])
        },
        "trimSuffix": { arguments in
            let values = try strings("trimSuffix", arguments, 2)
            return .string(values[1].hasSuffix(values[0]) ? String(values[1].dropLast(values[0].count)) : values[1])
        },
        "replace": { arguments in
            let values = try strings("replace", arguments, 3)
            return .string(values[2].replacingOccurrences(of: values[0], with: values[1]))
        },
        "contains": { arguments in
            let values = try strings("contains", arguments, 2)
            return .bool(values[1].contains(values[0]))
        },
        "hasPrefix": { arguments in
            let values = try strings("hasPrefix", arguments, 2)
            return .bool(values[1].hasPrefix(values[0]))
        },
        "hasSuffix": { arguments in
            let values = try strings("hasSuffix", arguments, 2)
            return .bool(values[1].hasSuffix(values[0]))
        },
        "repeat": { arguments in
            try count("repeat", arguments, 2)
            let times = Int(try number(arguments[0]))
            guard (0...10_000).contains(times) else { throw Failure("repeat count \(times) is out of range") }
            return .string(String(repeating: arguments[1].printed, count: times))
        },
        "nospace": { arguments in .string(try strings("nospace", arguments, 1)[0].filter { !$0.isWhitespace }) },
        "trunc": { arguments in
            try count("trunc", arguments, 2)
            let length = Int(try number(arguments[0]))
            let text = arguments[1].printed
            return .string(length >= 0 ? String(text.prefix(length)) : String(text.suffix(-length)))
        },
        "cat": { arguments in .string(arguments.filter { $0 != .null }.map(\.printed).joined(separator: " ")) },
        "indent": { arguments in
            try count("indent", arguments, 2)
            let pad = String(repeating: " ", count: max(0, Int(try number(arguments[0]))))
            return .string(arguments[1].printed.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 }.joined(separator: "\n"))
        },
        "nindent": { arguments in
            try count("nindent", arguments, 2)
            let pad = String(repeating: " ", count: max(0, Int(try number(arguments[0]))))
            return .string("\n" + arguments[1].printed.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 }.joined(separator: "\n"))
        },
        "toString": { arguments in .string(try strings("toString", arguments, 1)[0]) },
        "atoi": { arguments in .int(Int64(try strings("atoi", arguments, 1)[0]) ?? 0) },
        "int": { arguments in
            try count("int", arguments, 1)
            return .int(Int64((try? number(arguments[0])) ?? 0))
        },
        "add": { arguments in
            var total: Int64 = 0
            for argument in arguments { total += Int64(try number(argument)) }
            return .int(total)
        },
        "join": { arguments in
            try count("join", arguments, 2)
            guard case .list(let items) = arguments[1] else { return .string(arguments[1].printed) }
            return .string(items.map(\.printed).joined(separator: arguments[0].printed))
        },
        "splitList": { arguments in
            let values = try strings("splitList", arguments, 2)
            return .list(values[1].components(separatedBy: values[0]).map { .string($0) })
        },
        "list": { arguments in .list(arguments) },
        "dict": { arguments in
            guard arguments.count.isMultiple(of: 2) else { throw Failure("dict needs key and value pairs") }
            var fields: [String: TemplateValue] = [:]
            for pair in stride(from: 0, to: arguments.count, by: 2) { fields[arguments[pair].printed] = arguments[pair + 1] }
            return .map(fields)
        },
        "b64enc": { arguments in .string(Data(try strings("b64enc", arguments, 1)[0].utf8).base64EncodedString()) },
        "b64dec": { arguments in
            let text = try strings("b64dec", arguments, 1)[0]
            guard let data = Data(base64Encoded: text), let decoded = String(data: data, encoding: .utf8) else {
                throw Failure("'\(text)' is not base64-encoded UTF-8 text")
            }
            return .string(decoded)
        },
        "toJson": { arguments in
            try count("toJson", arguments, 1)
            return .string(GoPrintf.json(arguments[0]))
        },
        "date": { arguments in
            try count("date", arguments, 2)
            let seconds: Double
            switch arguments[1] {
            case .time(let value): seconds = value
            case .int(let value): seconds = Double(value)
            case let other: throw Failure("date needs a time (now) or a Unix time, got \(other.typeName)")
            }
            return .string(GoTimeLayout.format(seconds, layout: arguments[0].printed))
        },
        "unixEpoch": { arguments in
            try count("unixEpoch", arguments, 1)
            guard case .time(let seconds) = arguments[0] else { throw Failure("unixEpoch needs a time") }
            return .string(String(Int64(seconds.rounded(.down))))
        },
    ]
}
