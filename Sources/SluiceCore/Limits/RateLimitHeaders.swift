/// The rate-limit headers OpenAI sends, for one answer: for each enabled bucket
/// `x-ratelimit-limit-…` (its capacity: `burst` for requests,
/// `tokens_per_minute` for tokens), `x-ratelimit-remaining-…` (whole units
/// available now) and `x-ratelimit-reset-…` (time until full again, written as
/// OpenAI does: `120ms`, `1s`, `6m0s`). A disabled bucket has no headers.
public struct RateLimitHeaders: Sendable, Equatable {
    /// `(name, value)` pairs, names in lowercase.
    public let fields: [(String, String)]

    public init(fields: [(String, String)]) {
        self.fields = fields
    }

    public init(requests: TokenBucket?, tokens: TokenBucket?, now: Duration) {
        self.fields = Self.fields(for: requests, unit: "requests", now: now)
            + Self.fields(for: tokens, unit: "tokens", now: now)
    }

    public static let none = RateLimitHeaders(fields: [])

    /// The value of the header called `name`, if present.
    public subscript(name: String) -> String? {
        fields.first { $0.0 == name }?.1
    }

    public static func == (lhs: RateLimitHeaders, rhs: RateLimitHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// The `retry-after` value for a wait: whole seconds rounded up, at least 1,
    /// so that a retry after that many seconds finds room if nothing else spent.
    public static func retryAfterSeconds(_ wait: Duration) -> Int {
        Int(max(1, min(wait.wholeSecondsRoundedUp, Int64(Int32.max))))
    }

    /// A duration as OpenAI writes it (Go's style, rounded up to milliseconds):
    /// `0s`, `120ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`.
    public static func formatReset(_ duration: Duration) -> String {
        let milliseconds = max(0, duration.wholeMillisecondsRoundedUp)
        if milliseconds == 0 { return "0s" }
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        let hours = milliseconds / 3_600_000
        let minutes = milliseconds / 60_000 % 60
        let secondsPart = milliseconds % 60_000
        var seconds = "\(secondsPart / 1000)"
        let fraction = secondsPart % 1000
        if fraction > 0 {
            var digits = String(fraction)
            digits = String(repeating: "0", count: 3 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            seconds += "." + digits
        }
        if hours > 0 { return "\(hours)h\(minutes)m\(seconds)s" }
        if minutes > 0 { return "\(minutes)m\(seconds)s" }
        return "\(seconds)s"
    }

    private static func fields(for bucket: TokenBucket?, unit: String, now: Duration) -> [(String, String)] {
        guard let bucket else { return [] }
        return [
            ("x-ratelimit-limit-\(unit)", String(Int(flooringNonNegative: bucket.capacity))),
            ("x-ratelimit-remaining-\(unit)", String(bucket.remaining(now: now))),
            ("x-ratelimit-reset-\(unit)", formatReset(bucket.timeUntilFull(now: now))),
        ]
    }
}

extension RateLimitBuckets {
    /// The headers that describe these buckets at `now`.
    public func headers(now: Duration) -> RateLimitHeaders {
        RateLimitHeaders(requests: requests, tokens: tokens, now: now)
    }
}
