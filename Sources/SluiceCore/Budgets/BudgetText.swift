/// How budgets are written for people: `$5.00`, `$0.0025`, `2026-12-05T00:00:00Z`.
public enum BudgetText {
    /// Dollars with two decimals, or up to six when two would hide the amount.
    public static func usd(_ value: Double) -> String {
        let cents = DecimalText.fixed(value, places: 2)
        let precise = DecimalText.plain(value, places: 6)
        // `plain` drops trailing zeros: keep it only when it shows more than cents do.
        return "$" + (precise.count > cents.count ? precise : cents)
    }

    /// `2026-12-05T00:00:00Z` for a UTC time in seconds since 1970 (to the second).
    public static func utcTimestamp(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.down))
        let days = whole >= 0 ? whole / UTCCalendar.secondsPerDay : (whole - UTCCalendar.secondsPerDay + 1) / UTCCalendar.secondsPerDay
        let rest = whole - days * UTCCalendar.secondsPerDay
        let two = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return UTCCalendar.dayLabel(daysSinceEpoch: days)
            + "T\(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60))Z"
    }
}
