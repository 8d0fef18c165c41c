/// Reads durations written as a whole number and a unit: `500ms`, `90s`, `15m`,
/// `24h`, `7d`, or a plain `0`.
public enum DurationParser {
    public static func parse(_ text: String) throws(ConfigError) -> Duration {
        let trimmed = text.trimmingWhitespace
        if trimmed == "0" { return .zero }
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let unit = trimmed.dropFirst(digits.count)
        guard !digits.isEmpty, let scale = DurationUnit(rawValue: String(unit)) else {
            throw notADuration(text)
        }
        guard let amount = Int64(digits) else { throw ConfigError("\(ConfigError.quoted(text)) is too long a duration") }
        let (value, overflow) = amount.multipliedReportingOverflow(by: scale.factor)
        guard !overflow else { throw ConfigError("\(ConfigError.quoted(text)) is too long a duration") }
        return scale == .milliseconds ? .milliseconds(value) : .seconds(value)
    }

    static func notADuration(_ text: String) -> ConfigError {
        ConfigError("\(ConfigError.quoted(text)) is not a duration (use 90s, 15m, 24h, 7d)")
    }
}

/// The units a duration may be written in, largest first.
enum DurationUnit: String, CaseIterable {
    case days = "d"
    case hours = "h"
    case minutes = "m"
    case seconds = "s"
    case milliseconds = "ms"

    /// Seconds per unit, except for `milliseconds`, which counts itself.
    var factor: Int64 {
        switch self {
        case .days: 86_400
        case .hours: 3_600
        case .minutes: 60
        case .seconds, .milliseconds: 1
        }
    }
}
