/// The documented range of every duration, size and count setting.
///
/// A value outside its range is a one-line `ConfigError`, never a trap further
/// on (a `TimeAmount` of `107000d` overflows its nanoseconds; a rate of 1e300
/// makes bucket arithmetic meaningless). The README's settings table quotes
/// these ranges.
public enum SettingBounds {
    public static let upstreamTimeout = Duration.milliseconds(100)...Duration.seconds(24 * 3600)
    public static let idleTimeout = Duration.milliseconds(100)...Duration.seconds(3600)
    public static let shutdownTimeout = Duration.zero...Duration.seconds(3600)
    public static let maxBodyBytes = 1...(256 << 20)
    public static let maxConnections = 1...1_000_000
    public static let cacheTTL = Duration.zero...Duration.seconds(3650 * 86400)
    public static let cacheMaxSizeBytes = 1...(1 << 40)
    public static let staleIfError = Duration.zero...Duration.seconds(30 * 86400)
    public static let usageRetention = Duration.seconds(1)...Duration.seconds(3650 * 86400)
    public static let requestsPerMinute = 0.0...1e9
    public static let burst = 0.0...1e9
    public static let tokensPerMinute = 0.0...1e12
    public static let maxWait = Duration.zero...Duration.seconds(600)
    /// `usd_per_day` and `usd_per_month`.
    public static let budgetUSD = 0.0...1e9
    /// Names in `allowed_hosts` or `allowed_origins`.
    public static let listEntries = 0...1_000

    static func check(_ value: Duration, in range: ClosedRange<Duration>, _ text: String) throws(ConfigError) -> Duration {
        guard range.contains(value) else {
            throw ConfigError("\(ConfigError.quoted(text)) is out of range (\(DurationFormatter.format(range.lowerBound)) to \(DurationFormatter.format(range.upperBound)))")
        }
        return value
    }

    static func check(_ value: Int, in range: ClosedRange<Int>, _ text: String, size: Bool) throws(ConfigError) -> Int {
        guard range.contains(value) else {
            let describe: (Int) -> String = { size ? ByteSizeFormatter.format($0) : String($0) }
            throw ConfigError("\(ConfigError.quoted(text)) is out of range (\(describe(range.lowerBound)) to \(describe(range.upperBound)))")
        }
        return value
    }

    static func check(_ value: Double, in range: ClosedRange<Double>, _ text: String) throws(ConfigError) -> Double {
        guard range.contains(value) else {
            throw ConfigError("\(ConfigError.quoted(text)) is out of range (\(SettingsReport.number(range.lowerBound)) to \(SettingsReport.number(range.upperBound)))")
        }
        return value
    }
}
