/// Replaces secret values with `***` in text. Applied to every log line before it reaches any
/// sink, so no plugin or hook can leak a secret by printing it.
public struct SecretMasker: Sendable, Equatable {
    public static let mask = "***"
    private let needles: [String]

    /// - Parameter secrets: secret values. Each is masked whole, and so is each of its lines
    ///   (a multi-line secret may be logged line by line). Fragments under 3 characters are not
    ///   masked on their own: masking every "a" would make logs unreadable and protect nothing.
    public init(secrets: some Sequence<String>) {
        var found = Set<String>()
        for secret in secrets where !secret.isEmpty {
            found.insert(secret)
            for line in secret.split(whereSeparator: \.isNewline) where line.count >= 3 {
                found.insert(String(line))
            }
        }
        // Longest first, so a secret containing another is masked whole.
        needles = found.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
    }

    public var isEmpty: Bool { needles.isEmpty }

    public func mask(_ text: String) -> String {
        var result = text
        for needle in needles where result.contains(needle) {
            result = result.replacing(needle, with: Self.mask)
        }
        return result
    }
}
