import Foundation

/// Go's reference-time layouts (`2006-01-02 15:04:05`), as Sprig's `date` takes them, in UTC
/// (ACR's agents run in UTC, and a build host's zone should not change a tag).
enum GoTimeLayout {
    /// Longest first, so `2006` wins over `2` and `January` over `Jan`.
    private static let tokens: [String] = [
        "January", "Monday", "Z07:00", "-07:00", "-0700", "2006", ".000000000", ".999999999", ".000000", ".999999", ".000", ".999",
        "Jan", "Mon", "MST", "002", "_2", "01", "02", "03", "04", "05", "06", "15", "PM", "pm", "1", "2", "3", "4", "5",
    ]

    static func format(_ seconds: Double, layout: String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = Date(timeIntervalSince1970: seconds)
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond, .weekday], from: date)
        let (year, month, day) = (parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
        let (hour, minute, second) = (parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        let nanos = parts.nanosecond ?? 0
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        let weekday = days[((parts.weekday ?? 1) - 1) % 7]
        func two(_ number: Int) -> String { String(format: "%02d", number) }
        func fraction(_ digits: Int, trimmed: Bool) -> String {
            var text = String(String(format: "%09d", nanos).prefix(digits))
            if trimmed {
                while text.hasSuffix("0") { text.removeLast() }
                return text.isEmpty ? "" : "." + text
            }
            return "." + text
        }
        var output = ""
        var rest = Substring(layout)
        outer: while !rest.isEmpty {
            for token in tokens where rest.hasPrefix(token) {
                switch token {
                case "January": output += months[month - 1]
                case "Jan": output += String(months[month - 1].prefix(3))
                case "Monday": output += weekday
                case "Mon": output += String(weekday.prefix(3))
                case "2006": output += String(format: "%04d", year)
                case "06": output += two(year % 100)
                case "01": output += two(month)
                case "1": output += String(month)
                case "02": output += two(day)
                case "_2": output += day < 10 ? " \(day)" : String(day)
                case "2": output += String(day)
                case "002": output += String(format: "%03d", calendar.ordinality(of: .day, in: .year, for: date) ?? 1)
                case "15": output += two(hour)
                case "03": output += two(hour % 12 == 0 ? 12 : hour % 12)
                case "3": output += String(hour % 12 == 0 ? 12 : hour % 12)
                case "04": output += two(minute)
                case "4": output += String(minute)
                case "05": output += two(second)
                case "5": output += String(second)
                case "PM": output += hour < 12 ? "AM" : "PM"
                case "pm": output += hour < 12 ? "am" : "pm"
                case "MST": output += "UTC"
                case "Z07:00": output += "Z"
                case "-07:00": output += "+00:00"
                case "-0700": output += "+0000"
                case ".000": output += fraction(3, trimmed: false)
                case ".000000": output += fraction(6, trimmed: false)
                case ".000000000": output += fraction(9, trimmed: false)
                case ".999": output += fraction(3, trimmed: true)
                case ".999999": output += fraction(6, trimmed: true)
                case ".999999999": output += fraction(9, trimmed: true)
                default: output += token
                }
                rest = rest.dropFirst(token.count)
                continue outer
            }
            output.append(rest.removeFirst())
        }
        return output
    }
}
