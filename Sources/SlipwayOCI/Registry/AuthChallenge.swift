import Foundation

/// A parsed `WWW-Authenticate` header: `Basic realm="..."` or
/// `Bearer realm="https://auth/token",service="registry",scope="repository:app:pull"`.
public struct AuthChallenge: Sendable, Hashable {
    public enum Scheme: String, Sendable { case basic, bearer }

    public var scheme: Scheme
    public var parameters: [String: String]

    public var realm: String? { parameters["realm"] }
    public var service: String? { parameters["service"] }
    public var scope: String? { parameters["scope"] }

    /// - Returns: nil for schemes we do not speak or a malformed header.
    public init?(header: String) {
        let trimmed = header.drop { $0 == " " }
        guard let space = trimmed.firstIndex(of: " ") ?? (trimmed.isEmpty ? nil : trimmed.endIndex) else { return nil }
        guard let scheme = Scheme(rawValue: trimmed[..<space].lowercased()) else { return nil }
        self.scheme = scheme
        parameters = [:]
        var rest = trimmed[space...]
        // key=value or key="quoted, value", comma separated.
        while true {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        value.append(character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        value.append(character)
                    }
                }
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            parameters[key] = value
        }
    }
}
