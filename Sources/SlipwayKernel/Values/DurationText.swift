import Foundation

/// Durations as recipes and acr-task.yaml write them: `"90s"`, `"1m30s"`, `"500ms"`, `"2h"`,
/// or a plain number of seconds.
public enum DurationText {
    /// - Returns: nil when `text` is not a duration.
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0 { return .milliseconds(Int64((seconds * 1000).rounded())) }
        var total: Duration = .zero
        var number = ""
        var unit = ""
        var sawComponent = false
        func flush() -> Bool {
            guard let value = Double(number), value >= 0 else { return false }
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            default: return false
            }
            total += .milliseconds(Int64((value * scale * 1000).rounded()))
            number = ""
            unit = ""
            sawComponent = true
            return true
        }
        for character in trimmed {
            if character.isNumber || character == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(character)
            } else if character.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(character)
            } else {
                return nil
            }
        }
        guard !number.isEmpty, flush() else { return nil }
        return sawComponent ? total : nil
    }

    /// `90s` → "1m30s"; used in plans and logs.
    public static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 1000 != 0 { return "\(ms)ms" }
        var seconds = ms / 1000
        var text = ""
        if seconds >= 3600 { text += "\(seconds / 3600)h"; seconds %= 3600 }
        if seconds >= 60 { text += "\(seconds / 60)m"; seconds %= 60 }
        if seconds > 0 || text.isEmpty { text += "\(seconds)s" }
        return text
    }
}

/// A `Duration` that decodes from recipe text (`"90s"`) or a number of seconds.
public struct DurationValue: Sendable, Hashable, Codable, CustomStringConvertible {
    public var duration: Duration

    public init(_ duration: Duration) { self.duration = duration }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let seconds = try? container.decode(Double.self) {
            guard seconds >= 0 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a duration cannot be negative")
            }
            duration = .milliseconds(Int64((seconds * 1000).rounded()))
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = DurationText.parse(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not a duration (examples: \"30s\", \"1m30s\", \"500ms\", 10)")
        }
        duration = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(DurationText.format(duration))
    }

    public var description: String { DurationText.format(duration) }
}
