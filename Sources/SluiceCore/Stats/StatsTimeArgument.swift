/// Reads the `--since` and `--until` arguments of `sluice stats`.
public enum StatsTimeArgument {
    /// Unix seconds for `--since`: a duration back from `now` (`90s`, `15m`, `24h`, `7d`)
    /// or a UTC date (`2026-11-26`, `2026-11-26T05:00:00Z`).
    public static func since(_ text: String, now: Double) throws(StatsArgumentError) -> Double {
        if let date = UTCCalendar.parseDate(text) { return date }
        guard let duration = try? DurationParser.parse(text), duration > .zero else {
            throw StatsArgumentError(
                "--since \(quoted(text)) is neither a duration (90s, 15m, 24h, 7d) nor a date (2026-11-26, 2026-11-26T05:00:00Z)")
        }
        return now - seconds(duration)
    }

    /// Unix seconds for `--until`: a UTC date (`2026-11-26`, `2026-11-26T05:00:00Z`).
    public static func until(_ text: String) throws(StatsArgumentError) -> Double {
        guard let date = UTCCalendar.parseDate(text) else {
            throw StatsArgumentError("--until \(quoted(text)) is not a date (2026-11-26, 2026-11-26T05:00:00Z)")
        }
        return date
    }

    /// Unix seconds for `cache purge --older-than`: `now` minus the duration.
    public static func olderThan(_ text: String, now: Double) throws(StatsArgumentError) -> Double {
        guard let duration = try? DurationParser.parse(text), duration > .zero else {
            throw StatsArgumentError("--older-than \(quoted(text)) is not a duration (90s, 15m, 24h, 7d)")
        }
        return now - seconds(duration)
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    private static func quoted(_ text: String) -> String {
        "'" + String(text.prefix(40)) + (text.count > 40 ? "…" : "") + "'"
    }
}

/// A bad stats or cache argument, described in one line.
public struct StatsArgumentError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
