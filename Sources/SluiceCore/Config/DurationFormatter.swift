/// Writes a duration back in the short form `DurationParser` reads, in the
/// largest unit that keeps it exact: `300s` prints as `5m`, `7200s` as `2h`.
/// Days are used from two days up, so one day prints as `24h`.
public enum DurationFormatter {
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 {
            if seconds == 0 { return "0s" }
            let unit = DurationUnit.allCases.first { unit in
                switch unit {
                case .milliseconds: false
                case .days: seconds % unit.factor == 0 && seconds >= 2 * unit.factor
                default: seconds % unit.factor == 0
                }
            } ?? .seconds
            return "\(seconds / unit.factor)\(unit.rawValue)"
        }
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        if attoseconds % attosecondsPerMillisecond == 0 {
            let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
            if !overflow {
                return "\(milliseconds + attoseconds / attosecondsPerMillisecond)ms"
            }
        }
        return "\(duration)"
    }
}
