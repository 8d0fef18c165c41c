/// UTC calendar arithmetic for stats labels and `--since`/`--until` dates,
/// without time zones or locale.
public enum UTCCalendar {
    public static let secondsPerDay = 86_400
    public static let secondsPerHour = 3_600

    /// `2026-11-26` for the day number `days` since 1970-01-01.
    public static func dayLabel(daysSinceEpoch days: Int) -> String {
        let date = civilDate(daysSinceEpoch: days)
        return "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2))"
    }

    /// `2026-11-26T05:00Z` for the hour number `hours` since 1970-01-01T00:00Z.
    public static func hourLabel(hoursSinceEpoch hours: Int) -> String {
        let days = hours >= 0 ? hours / 24 : (hours - 23) / 24
        let hour = hours - days * 24
        return "\(dayLabel(daysSinceEpoch: days))T\(pad(hour, 2)):00Z"
    }

    /// Unix seconds of `2026-11-26` (midnight UTC) or `2026-11-26T05:00:00Z`
    /// (also without seconds: `2026-11-26T05:00Z`); nil for anything else.
    public static func parseDate(_ text: String) -> Double? {
        let characters = Array(text.utf8)
        guard characters.count >= 10,
              let year = number(characters, 0, 4), characters[4] == UInt8(ascii: "-"),
              let month = number(characters, 5, 2), characters[7] == UInt8(ascii: "-"),
              let day = number(characters, 8, 2),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var seconds = daysSinceEpoch(year: year, month: month, day: day) * secondsPerDay
        if characters.count == 10 { return Double(seconds) }

        // "THH:MMZ" or "THH:MM:SSZ"
        guard characters.count == 17 || characters.count == 20,
              characters[10] == UInt8(ascii: "T"), characters.last == UInt8(ascii: "Z"),
              let hour = number(characters, 11, 2), characters[13] == UInt8(ascii: ":"),
              let minute = number(characters, 14, 2), hour < 24, minute < 60
        else { return nil }
        seconds += hour * secondsPerHour + minute * 60
        if characters.count == 20 {
            guard characters[16] == UInt8(ascii: ":"), let second = number(characters, 17, 2), second < 60
            else { return nil }
            seconds += second
        }
        return Double(seconds)
    }

    // MARK: Civil-date conversion (proleptic Gregorian, after H. Hinnant's published algorithm)

    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func number(_ bytes: [UInt8], _ start: Int, _ length: Int) -> Int? {
        var value = 0
        for byte in bytes[start..<start + length] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(width - digits.count, 0)) + digits
    }
}
