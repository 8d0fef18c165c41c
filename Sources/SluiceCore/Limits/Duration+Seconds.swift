extension Duration {
    /// The longest wait the limit code reports: a bucket that never refills.
    static let forever: Duration = .seconds(Int64(1) << 40)

    /// This duration in seconds, as a `Double`.
    public var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }

    /// `seconds` rounded to the nearest nanosecond; negative values give zero
    /// and values beyond `Duration.forever` give `Duration.forever`.
    init(roundingSeconds seconds: Double) {
        guard seconds > 0 else {
            self = .zero
            return
        }
        guard seconds < Duration.forever.inSeconds else {
            self = .forever
            return
        }
        let whole = seconds.rounded(.down)
        self = .seconds(Int64(whole)) + .nanoseconds(Int64(((seconds - whole) * 1e9).rounded()))
    }

    /// Whole seconds, rounded up.
    var wholeSecondsRoundedUp: Int64 {
        let parts = components
        return parts.seconds + (parts.attoseconds > 0 ? 1 : 0)
    }

    /// Whole milliseconds, rounded up.
    var wholeMillisecondsRoundedUp: Int64 {
        let parts = components
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        let (whole, rest) = parts.attoseconds.quotientAndRemainder(dividingBy: attosecondsPerMillisecond)
        return parts.seconds * 1000 + whole + (rest > 0 ? 1 : 0)
    }
}

extension Int {
    /// `value` rounded down, limited to `0...Int.max`.
    init(flooringNonNegative value: Double) {
        if !(value > 0) {
            self = 0
        } else if value >= Double(Int.max) {
            self = .max
        } else {
            self = Int(value.rounded(.down))
        }
    }
}
