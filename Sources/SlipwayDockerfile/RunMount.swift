/// One `RUN --mount=…` as BuildKit reads it: comma-separated `key=value` fields, each value
/// expanded like any other word. What a field means depends on the type; a field the type
/// does not take is an error, not ignored.
public struct RunMount: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case bind, cache, tmpfs, secret, ssh
    }

    public enum Sharing: String, Sendable, Hashable {
        case shared, `private`, locked
    }

    public var kind: Kind
    /// Where it is mounted; for secrets `/run/secrets/<id>` unless given.
    public var target: String
    /// bind and cache: a stage, image or named context to take files from (nil: the build context).
    public var from: String?
    /// bind: the path inside `from` (its root when nil).
    public var source: String?
    public var readOnly: Bool
    /// cache and secret: the identity (cache: the target by default; secret: the target's last component).
    public var id: String
    public var sharing: Sharing
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    /// tmpfs: its size in bytes.
    public var size: Int64?
    /// secret: fail when the build was given no such secret (else it is not mounted).
    public var required: Bool
    /// secret: also (or only, with no target) exposed as this environment variable.
    public var environment: String?

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// - Parameters:
    ///   - text: the flag's value, e.g. `type=cache,target=/root/.cache,sharing=locked`.
    ///   - expand: expands one field value (the stage's ARGs and ENV).
    public static func parse(_ text: String, expand: (String) throws -> String) throws -> RunMount {
        var fields: [(key: String, value: String?)] = []
        for field in try Self.fields(text) {
            let equals = field.firstIndex(of: "=")
            let key = String(field[..<(equals ?? field.endIndex)]).lowercased()
            let value = try equals.map { try expand(String(field[field.index(after: $0)...])) }
            fields.append((key, value))
        }
        let kindText = fields.last(where: { $0.key == "type" })?.value ?? "bind"
        guard let kind = Kind(rawValue: kindText.lowercased()) else {
            throw Failure(description: "unknown mount type '\(kindText)' (expected bind, cache, tmpfs or secret)")
        }
        if kind == .ssh { throw Failure(description: "type=ssh mounts are not supported (no SSH agent is forwarded to builds)") }
        var mount = RunMount(
            kind: kind, target: "", from: nil, source: nil, readOnly: kind == .bind || kind == .secret, id: "", sharing: .shared,
            mode: nil, uid: nil, gid: nil, size: nil, required: false, environment: nil)
        var target: String?
        var id: String?
        let takes: [Kind: Set<String>] = [
            .bind: ["from", "source", "src", "readonly", "ro", "readwrite", "rw"],
            .cache: ["from", "source", "src", "readonly", "ro", "readwrite", "rw", "id", "sharing", "mode", "uid", "gid"],
            .tmpfs: ["size"],
            .secret: ["id", "required", "mode", "uid", "gid", "env"],
        ]
        for (key, value) in fields {
            if key == "type" { continue }
            if ["target", "dst", "destination"].contains(key) {
                target = try required(key, value)
                continue
            }
            guard takes[kind]?.contains(key) == true else {
                throw Failure(description: "type=\(kind.rawValue) mounts take no '\(key)' field")
            }
            switch key {
            case "from": mount.from = try required(key, value)
            case "source", "src": mount.source = try required(key, value)
            case "readonly", "ro": mount.readOnly = try boolean(key, value)
            case "readwrite", "rw": mount.readOnly = try !boolean(key, value)
            case "id": id = try required(key, value)
            case "sharing":
                let text = try required(key, value)
                guard let sharing = Sharing(rawValue: text.lowercased()) else {
                    throw Failure(description: "sharing=\(text): expected shared, private or locked")
                }
                mount.sharing = sharing
            case "mode":
                let text = try required(key, value)
                guard let mode = UInt32(text, radix: 8), mode <= 0o7777 else { throw Failure(description: "mode=\(text) is not an octal mode") }
                mount.mode = mode
            case "uid", "gid":
                let text = try required(key, value)
                guard let number = UInt32(text) else { throw Failure(description: "\(key)=\(text) is not a number") }
                if key == "uid" { mount.uid = number } else { mount.gid = number }
            case "size":
                let text = try required(key, value)
                guard let bytes = Self.bytes(text) else { throw Failure(description: "size=\(text) is not a size (bytes, or with k, m, g)") }
                mount.size = bytes
            case "required": mount.required = try boolean(key, value)
            case "env": mount.environment = try required(key, value)
            default: throw Failure(description: "type=\(kind.rawValue) mounts take no '\(key)' field")
            }
        }
        switch kind {
        case .secret:
            guard let name = id ?? target.map({ String($0.split(separator: "/").last ?? "") }), !name.isEmpty else {
                throw Failure(description: "a secret mount needs id= (or a target= to name it)")
            }
            mount.id = name
            mount.target = target ?? (mount.environment == nil ? "/run/secrets/\(name)" : "")
        default:
            guard let target, !target.isEmpty else { throw Failure(description: "type=\(kind.rawValue) mounts need target=") }
            mount.target = target
            mount.id = id ?? target
        }
        if !mount.target.isEmpty, !mount.target.hasPrefix("/") {
            throw Failure(description: "target=\(mount.target) must be an absolute path")
        }
        return mount
    }

    /// Splits on commas outside double quotes, as BuildKit's CSV reader does; quotes removed.
    private static func fields(_ text: String) throws -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            switch character {
            case "\"": quoted.toggle()
            case "," where !quoted:
                fields.append(current)
                current = ""
            default: current.append(character)
            }
        }
        guard !quoted else { throw Failure(description: "unterminated quote in --mount=\(text)") }
        fields.append(current)
        return fields.filter { !$0.isEmpty }
    }

    private static func required(_ key: String, _ value: String?) throws -> String {
        guard let value, !value.isEmpty else { throw Failure(description: "\(key)= needs a value") }
        return value
    }

    private static func boolean(_ key: String, _ value: String?) throws -> Bool {
        switch value?.lowercased() {
        case nil, "true", "1": return true
        case "false", "0": return false
        case let other?: throw Failure(description: "\(key)=\(other): expected true or false")
        }
    }

    private static func bytes(_ text: String) -> Int64? {
        let lower = text.lowercased()
        let units: [(String, Int64)] = [("gb", 1 << 30), ("g", 1 << 30), ("mb", 1 << 20), ("m", 1 << 20), ("kb", 1 << 10), ("k", 1 << 10), ("b", 1)]
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            return Int64(lower.dropLast(suffix.count)).map { $0 * factor }
        }
        return Int64(lower)
    }
}
