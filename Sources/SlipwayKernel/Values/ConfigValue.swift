import Foundation
/// A configuration value as a recipe wrote it: the common currency between the Lua bridge,
/// the engine and plugins. Plugins never see Lua; they decode their `Decodable` configuration
/// from a `ConfigValue` with ``ConfigValueDecoder``.
public enum ConfigValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([ConfigValue])
    case object([String: ConfigValue])
    /// A reference to another step's result; passing a step as an input creates an edge.
    case step(StepID)
    /// A Lua function held by the recipe session (a hook), called later through a `HookInvoker`.
    case hook(HookReference)

    /// Every step referenced anywhere inside this value, in first-seen order.
    public var stepReferences: [StepID] {
        var found: [StepID] = []
        collectSteps(into: &found)
        return found
    }

    private func collectSteps(into found: inout [StepID]) {
        switch self {
        case .step(let id): if !found.contains(id) { found.append(id) }
        case .array(let items): items.forEach { $0.collectSteps(into: &found) }
        case .object(let fields): fields.keys.sorted().forEach { fields[$0]!.collectSteps(into: &found) }
        default: break
        }
    }

    /// A short name of the value's type, for error messages ("string", "list", "table"...).
    public var typeName: String {
        switch self {
        case .null: "nil"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "list"
        case .object: "table"
        case .step: "step"
        case .hook: "function"
        }
    }

    /// The fields of an object; an empty list counts as an empty object (Lua has one `{}`).
    public var objectFields: [String: ConfigValue]? {
        switch self {
        case .object(let fields): fields
        case .array(let items) where items.isEmpty: [:]
        default: nil
        }
    }

    public subscript(key: String) -> ConfigValue? { objectFields?[key] }
}

extension ConfigValue: Codable {
    // Encoded as plain JSON; step and hook references as {"$step": id} / {"$hook": {...}} so
    // that plans and stored definitions round-trip.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Int64.self) { self = .int(value); return }
        if let value = try? container.decode(Double.self) { self = .double(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([ConfigValue].self) { self = .array(value); return }
        let fields = try container.decode([String: ConfigValue].self)
        if fields.count == 1, case .string(let id)? = fields["$step"] { self = .step(StepID(id)); return }
        if fields.count == 1, fields["$hook"] != nil {
            let nested = try container.decode([String: HookReference].self)
            self = .hook(nested["$hook"]!)
            return
        }
        self = .object(fields)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let v): try container.encode(v)
        case .int(let v): try container.encode(v)
        case .double(let v): try container.encode(v)
        case .string(let v): try container.encode(v)
        case .array(let v): try container.encode(v)
        case .object(let v): try container.encode(v)
        case .step(let id): try container.encode(["$step": id.rawValue])
        case .hook(let ref): try container.encode(["$hook": ref])
        }
    }
}

extension ConfigValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .null: "nil"
        case .bool(let v): String(v)
        case .int(let v): String(v)
        case .double(let v): String(v)
        case .string(let v): String(reflecting: v)
        case .array(let v): "{" + v.map(\.description).joined(separator: ", ") + "}"
        case .object(let v): "{" + v.keys.sorted().map { "\($0) = \(v[$0]!)" }.joined(separator: ", ") + "}"
        case .step(let id): "step(\(id))"
        case .hook(let ref): "function(\(ref.name))"
        }
    }
}

extension ConfigValue {
    /// Any `Encodable` value as a `ConfigValue`, keys in the recipes' snake_case
    /// (`runtimeBase` → `runtime_base`): how a plugin hands a report to dependents and records.
    public init(encoding value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        self = try JSONDecoder().decode(ConfigValue.self, from: encoder.encode(value))
    }
}
