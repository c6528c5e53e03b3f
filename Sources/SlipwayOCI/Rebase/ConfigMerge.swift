import Foundation

/// The container defaults (`config` of an image config: Env, Cmd, Labels…) of an image moved
/// to a new base: what the image set itself is kept, what it inherited from the old base comes
/// from the new one — what a rebuild on the new base would give.
///
/// Works on the JSON objects as read, so fields Slipway does not model are carried over too.
enum ConfigMerge {
    /// Keys whose values are objects merged key by key (a Dockerfile adds to them).
    static let objectKeys: Set<String> = ["Labels", "ExposedPorts", "Volumes"]

    static func merge(oldBase: [String: Any], image: [String: Any], newBase: [String: Any]) -> [String: Any] {
        var result: [String: Any] = [:]
        for key in Set(oldBase.keys).union(image.keys).union(newBase.keys) {
            let value: Any?
            switch key {
            case "Env": value = mergeEnvironment(oldBase[key], image[key], newBase[key])
            case _ where objectKeys.contains(key): value = mergeObject(oldBase[key], image[key], newBase[key])
            default: value = same(image[key], oldBase[key]) ? newBase[key] : image[key]
            }
            if let value, !(value is NSNull) { result[key] = value }
        }
        return result
    }

    /// The new base's variables in its order, then each variable the image set itself (changed
    /// or added), replaced in place or appended, as ENV does.
    static func mergeEnvironment(_ oldBase: Any?, _ image: Any?, _ newBase: Any?) -> [String]? {
        let old = pairs(oldBase)
        var merged = pairs(newBase)
        for (name, value) in pairs(image) where old.first(where: { $0.name == name })?.value != value {
            if let index = merged.firstIndex(where: { $0.name == name }) {
                merged[index].value = value
            } else {
                merged.append((name, value))
            }
        }
        return merged.isEmpty ? nil : merged.map { "\($0.name)=\($0.value)" }
    }

    static func mergeObject(_ oldBase: Any?, _ image: Any?, _ newBase: Any?) -> [String: Any]? {
        let old = oldBase as? [String: Any] ?? [:]
        var merged = newBase as? [String: Any] ?? [:]
        for (key, value) in image as? [String: Any] ?? [:] where !same(old[key], value) {
            merged[key] = value
        }
        return merged.isEmpty ? nil : merged
    }

    private static func pairs(_ value: Any?) -> [(name: String, value: String)] {
        (value as? [String] ?? []).map { entry in
            let name = entry.prefix { $0 != "=" }
            return (String(name), String(entry.dropFirst(name.count + 1)))
        }
    }

    /// JSON equality, absent and null being the same.
    static func same(_ lhs: Any?, _ rhs: Any?) -> Bool {
        switch (lhs, rhs) {
        case (nil, nil), (nil, is NSNull), (is NSNull, nil), (is NSNull, is NSNull): return true
        case (let lhs?, let rhs?): return NSDictionary(dictionary: ["v": lhs]).isEqual(to: ["v": rhs])
        default: return false
        }
    }
}
