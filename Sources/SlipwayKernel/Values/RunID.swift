public import Foundation

/// Run ids are ULIDs: 26 characters of Crockford's base32, 48 bits of milliseconds since 1970
/// then 80 random bits. They sort by start time as plain text, need no coordination between
/// hosts, and are valid image tags (`app:01JE…`).
public enum RunID {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    public static func make(at date: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(at: date, using: &generator)
    }

    public static func make(at date: Date, using generator: inout some RandomNumberGenerator) -> String {
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var text = ""
        // 10 characters of time (50 bits, the top 2 always zero), most significant first.
        for shift in stride(from: 45, through: 0, by: -5) { text.append(alphabet[Int((milliseconds >> UInt64(shift)) & 31)]) }
        // 16 characters of randomness (80 bits).
        for _ in 0..<16 { text.append(alphabet[Int.random(in: 0..<32, using: &generator)]) }
        return text
    }
}
