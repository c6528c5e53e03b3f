/// Decodes a plugin's `Decodable` configuration from a ``ConfigValue``.
///
/// Recipes use snake_case keys and Swift uses camelCase: `retry_delay` in a recipe fills
/// `retryDelay`. Keys the configuration type does not declare are rejected with their key path
/// (`steps[2].tags: unknown key 'tgas'`) rather than silently ignored.
public struct ConfigValueDecoder: Sendable {
    public init() {}

    /// - Parameters:
    ///   - type: the configuration type.
    ///   - value: what the recipe wrote.
    ///   - path: the key path of `value` itself, used as the prefix of error paths.
    /// - Throws: ``ConfigurationError`` naming the key path and what was expected.
    public func decode<T: Decodable>(_ type: T.Type, from value: ConfigValue, path: [ConfigPathComponent] = []) throws -> T {
        let decoder = ValueDecoder(value: value, path: path)
        do {
            return try decoder.decodeValue(T.self)
        } catch let error as ConfigurationError {
            throw error
        } catch let error as DecodingError {
            throw ConfigurationError(decoding: error, base: path)
        }
    }

    /// `retry_delay` → `retryDelay`.
    public static func camelCase(_ key: String) -> String {
        guard key.contains("_") else { return key }
        var result = ""
        var upperNext = false
        for character in key {
            if character == "_" {
                upperNext = !result.isEmpty
            } else if upperNext {
                result += character.uppercased()
                upperNext = false
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// `retryDelay` → `retry_delay`, for messages.
    public static func snakeCase(_ key: String) -> String {
        var result = ""
        for character in key {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}

/// One step of a key path: a table key or a (1-based, as in Lua) list position.
public enum ConfigPathComponent: Sendable, Hashable, CustomStringConvertible {
    case key(String)
    case index(Int)

    public var description: String {
        switch self {
        case .key(let key): key
        case .index(let index): "[\(index)]"
        }
    }

    /// Renders `steps[2].tags`.
    public static func render(_ path: [ConfigPathComponent]) -> String {
        var text = ""
        for component in path {
            switch component {
            case .key(let key): text += text.isEmpty ? key : "." + key
            case .index: text += component.description
            }
        }
        return text
    }
}

private struct PathKey: CodingKey {
    let component: ConfigPathComponent
    init(_ component: ConfigPathComponent) { self.component = component }
    init?(stringValue: String) { component = .key(stringValue) }
    init?(intValue: Int) { component = .index(intValue + 1) }
    var stringValue: String { component.description }
    var intValue: Int? { if case .index(let i) = component { i - 1 } else { nil } }
}

private struct ValueDecoder: Decoder {
    let value: ConfigValue
    let path: [ConfigPathComponent]
    var codingPath: [any CodingKey] { path.map(PathKey.init) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> ConfigurationError {
        ConfigurationError(path: path, message: "expected \(expected), got \(value.typeName)")
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        // Values the recipe bridge produces that have no JSON shape.
        if T.self == ConfigValue.self { return value as! T }
        if T.self == StepID.self {
            switch value {
            case .step(let id): return id as! T
            case .string(let id): return StepID(id) as! T
            default: throw mismatch("a step or a step id")
            }
        }
        if T.self == HookReference.self {
            guard case .hook(let ref) = value else { throw mismatch("a function") }
            return ref as! T
        }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let fields = value.objectFields else { throw mismatch("a table with named keys") }
        var byKey: [String: (name: String, value: ConfigValue)] = [:]
        for name in fields.keys.sorted() {
            let swiftName = ConfigValueDecoder.camelCase(name)
            guard Key(stringValue: swiftName) != nil else {
                throw ConfigurationError(path: path, message: "unknown key '\(name)'")
            }
            byKey[swiftName] = (name, fields[name]!)
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(fields: byKey, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .array(let items): return UnkeyedContainer(items: items, path: path)
        case .object(let fields) where fields.isEmpty: return UnkeyedContainer(items: [], path: path)
        default: throw mismatch("a list")
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleContainer(decoder: self) }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let fields: [String: (name: String, value: ConfigValue)]
    let path: [ConfigPathComponent]
    var codingPath: [any CodingKey] { path.map(PathKey.init) }
    var allKeys: [Key] { fields.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { fields[key.stringValue] != nil }

    private func child(_ key: Key) throws -> ValueDecoder {
        guard let field = fields[key.stringValue] else {
            throw ConfigurationError(
                path: path + [.key(ConfigValueDecoder.snakeCase(key.stringValue))], message: "required key is missing")
        }
        return ValueDecoder(value: field.value, path: path + [.key(field.name)])
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let field = fields[key.stringValue] else { return true }
        return field.value == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decodeValue(T.self) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let field = fields[key.stringValue], field.value != .null else { return nil }
        return try ValueDecoder(value: field.value, path: path + [.key(field.name)]).decodeValue(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    { try child(key).container(keyedBy: type) }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(fields.mapValues(\.value)), path: path) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let items: [ConfigValue]
    let path: [ConfigPathComponent]
    var currentIndex = 0
    var codingPath: [any CodingKey] { path.map(PathKey.init) }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [ConfigValue], path: [ConfigPathComponent]) {
        self.items = items
        self.path = path
    }

    private mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else { throw ConfigurationError(path: path, message: "list is too short") }
        defer { currentIndex += 1 }
        return ValueDecoder(value: items[currentIndex], path: path + [.index(currentIndex + 1)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(T.self) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    { try next().container(keyedBy: type) }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let v) = decoder.value else { throw decoder.mismatch("a boolean") }
        return v
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let v) = decoder.value else { throw decoder.mismatch("a string") }
        return v
    }

    func decode(_ type: Double.Type) throws -> Double {
        switch decoder.value {
        case .double(let v): return v
        case .int(let v): return Double(v)
        default: throw decoder.mismatch("a number")
        }
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    private func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        let wide: Int64
        switch decoder.value {
        case .int(let v): wide = v
        case .double(let v) where v.rounded() == v && abs(v) < 9e18: wide = Int64(v)
        default: throw decoder.mismatch("a whole number")
        }
        guard let narrow = I(exactly: wide) else {
            throw ConfigurationError(path: decoder.path, message: "\(wide) is out of range")
        }
        return narrow
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(T.self) }
}
