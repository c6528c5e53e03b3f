import Foundation
import SlipwayKernel
import Yams

/// `--values FILE` (JSON or YAML, merged in order) and `--set key=value` on top (dotted keys
/// nest): the values a recipe reads, for `run`, `plan`, `task create` and `task run`.
struct ValueOptions {
    var assignments: [String]
    var files: [String]

    func values() throws -> ConfigValue {
        var merged: [String: ConfigValue] = [:]
        for path in files {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw InputError("--values \(path): cannot read the file")
            }
            let value: ConfigValue
            do {
                value = try YAMLDecoder().decode(ConfigValue.self, from: text)
            } catch {
                throw InputError("--values \(path): not valid JSON or YAML: \(error)")
            }
            guard let fields = value.objectFields else { throw InputError("--values \(path): expected a mapping at the top level") }
            merged = Self.merge(merged, fields)
        }
        for assignment in assignments {
            guard let (key, value) = InputError.keyValue(assignment) else { throw InputError("--set \(assignment): expected key=value") }
            let keys = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard keys.allSatisfy({ !$0.isEmpty }) else { throw InputError("--set \(assignment): empty key segment") }
            merged = Self.merge(merged, Self.nest(keys, .string(value)))
        }
        return .object(merged)
    }

    private static func nest(_ keys: [String], _ value: ConfigValue) -> [String: ConfigValue] {
        keys.dropFirst().isEmpty ? [keys[0]: value] : [keys[0]: .object(nest(Array(keys.dropFirst()), value))]
    }

    private static func merge(_ base: [String: ConfigValue], _ top: [String: ConfigValue]) -> [String: ConfigValue] {
        var result = base
        for (key, value) in top {
            if let existing = result[key]?.objectFields, let incoming = value.objectFields, case .object = value {
                result[key] = .object(merge(existing, incoming))
            } else {
                result[key] = value
            }
        }
        return result
    }
}
