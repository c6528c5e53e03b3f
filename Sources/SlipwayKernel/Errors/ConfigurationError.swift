/// A configuration value does not fit what a plugin or option expects.
/// The path is in recipe terms (`steps[2].tags[1]`, 1-based list positions).
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: [ConfigPathComponent]
    public var message: String

    public init(path: [ConfigPathComponent], message: String) {
        self.path = path
        self.message = message
    }

    init(decoding error: DecodingError, base: [ConfigPathComponent]) {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            // Our decoder's coding path already starts with `base`; a foreign one may be empty.
            let path: [ConfigPathComponent] = context.codingPath.map { key in
                key.intValue.map { .index($0 + 1) } ?? .key(key.stringValue)
            }
            self.init(path: path.isEmpty ? base : path, message: context.debugDescription)
        case .keyNotFound(let key, _):
            self.init(path: base + [.key(ConfigValueDecoder.snakeCase(key.stringValue))], message: "required key is missing")
        @unknown default:
            self.init(path: base, message: String(describing: error))
        }
    }

    /// The same error with `prefix` in front of its path.
    public func prefixed(by prefix: [ConfigPathComponent]) -> ConfigurationError {
        ConfigurationError(path: prefix + path, message: message)
    }

    public var description: String {
        path.isEmpty ? message : "\(ConfigPathComponent.render(path)): \(message)"
    }
}

extension ConfigurationError: CategorizedError {
    public var category: ErrorCategory { .invalidInput }
}
