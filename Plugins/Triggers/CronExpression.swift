import Foundation
import Glibc

/// A 5-field cron expression (`minute hour day-of-month month day-of-week`), in UTC: `*`,
/// numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, month and day names (`JAN`,
/// `MON`), 7 as Sunday, and the macros `@hourly`, `@daily`/`@midnight`, `@weekly`, `@monthly`,
/// `@yearly`/`@annually`. As in Vixie cron, when both day fields are restricted a day matches
/// either.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool
    public let description: String

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    static let macros = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(parsing text: String) throws(Invalid) {
        description = text
        let expanded = Self.macros[text.trimmingCharacters(in: .whitespaces).lowercased()] ?? text
        let fields = expanded.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw Invalid(description: "cron '\(text)': expected 5 fields (minute hour day month weekday) or a macro such as @daily")
        }
        minutes = try Self.field(fields[0], "minute", 0...59, names: [], text: text)
        hours = try Self.field(fields[1], "hour", 0...23, names: [], text: text)
        days = try Self.field(fields[2], "day of month", 1...31, names: [], text: text)
        months = try Self.field(fields[3], "month", 1...12, names: Self.monthNames, firstName: 1, text: text)
        let weekdays = try Self.field(fields[4], "day of week", 0...7, names: Self.dayNames, firstName: 0, text: text)
        self.weekdays = Set(weekdays.map { $0 % 7 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    private static func field(
        _ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String], firstName: Int = 0, text whole: String
    ) throws(Invalid) -> Set<Int> {
        func fail(_ reason: String) -> Invalid { Invalid(description: "cron '\(whole)': \(name) '\(text)': \(reason)") }
        func value(_ part: Substring) throws(Invalid) -> Int {
            if let number = Int(part) {
                guard range.contains(number) else { throw fail("\(number) is outside \(range.lowerBound)-\(range.upperBound)") }
                return number
            }
            if let index = names.firstIndex(of: part.uppercased()) { return index + firstName }
            throw fail("'\(part)' is not a number\(names.isEmpty ? "" : " or a name")")
        }
        var result = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw fail("an empty list item") }
            var base = item
            var step = 1
            if let slash = item.firstIndex(of: "/") {
                base = item[..<slash]
                guard let parsed = Int(item[item.index(after: slash)...]), parsed > 0 else { throw fail("the step must be a number above 0") }
                step = parsed
            }
            let bounds: ClosedRange<Int>
            if base == "*" {
                bounds = range
            } else if let dash = base.firstIndex(of: "-") {
                let low = try value(base[..<dash])
                let high = try value(base[base.index(after: dash)...])
                guard low <= high else { throw fail("the range \(low)-\(high) runs backwards") }
                bounds = low...high
            } else {
                let single = try value(base)
                bounds = single...(step > 1 ? range.upperBound : single)
            }
            result.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return result
    }

    /// Whether the minute starting at `seconds` (since 1970, UTC) is one of the schedule's.
    public func matches(_ seconds: Int64) -> Bool {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        guard minutes.contains(Int(parts.tm_min)), hours.contains(Int(parts.tm_hour)), months.contains(Int(parts.tm_mon) + 1) else {
            return false
        }
        let day = days.contains(Int(parts.tm_mday))
        let weekday = weekdays.contains(Int(parts.tm_wday))
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): return day || weekday
        case (true, false): return day
        case (false, true): return weekday
        case (false, false): return true
        }
    }

    /// The latest scheduled minute in `(after, now]`, or nil when none is (searching at most a
    /// year back: older fire times are coalesced into the latest one anyway).
    public func latest(after: Int64?, upTo now: Int64) -> Int64? {
        let floor = max(after.map { $0 + 1 } ?? Int64.min, now - 366 * 86_400)
        var minute = now - ((now % 60) + 60) % 60
        while minute >= floor {
            if matches(minute) { return minute }
            minute -= 60
        }
        return nil
    }
}
