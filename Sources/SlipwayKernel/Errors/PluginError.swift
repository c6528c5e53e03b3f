/// A problem with plugin registration or lookup.
public struct PluginError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Reason: Equatable {
        case duplicateKind, invalidKind, noRole, unknownKind
        case wrongRole(PluginRegistry.Role)
    }

    private let reason: Reason
    public let kind: String

    public static func duplicateKind(_ kind: String) -> PluginError { PluginError(reason: .duplicateKind, kind: kind) }
    public static func invalidKind(_ kind: String) -> PluginError { PluginError(reason: .invalidKind, kind: kind) }
    public static func noRole(_ kind: String) -> PluginError { PluginError(reason: .noRole, kind: kind) }
    public static func unknownKind(_ kind: String) -> PluginError { PluginError(reason: .unknownKind, kind: kind) }
    public static func wrongRole(_ kind: String, expected: PluginRegistry.Role) -> PluginError {
        PluginError(reason: .wrongRole(expected), kind: kind)
    }

    public var description: String {
        switch reason {
        case .duplicateKind: "plugin kind '\(kind)' is registered twice"
        case .invalidKind: "'\(kind)' is not a valid plugin kind (letters, digits and '_', dot-separated)"
        case .noRole: "plugin '\(kind)' conforms to no role (StepRunner, Trigger, ContextSource, Builder, Publisher)"
        case .unknownKind: "unknown plugin kind '\(kind)'"
        case .wrongRole(let role): "plugin '\(kind)' cannot be used as a \(role.rawValue)"
        }
    }
}

extension PluginError: CategorizedError {
    /// Registering a kind badly is the embedding program's fault; naming one badly, the recipe's.
    public var category: ErrorCategory {
        switch reason {
        case .duplicateKind, .invalidKind, .noRole: .internal
        case .unknownKind, .wrongRole: .invalidInput
        }
    }
}
