/// The two token buckets of one client key, requests and model tokens, and the
/// rule that admits a request against both at once.
///
/// A limit of zero (or less) disables that bucket: `requests_per_minute: 0`
/// means no request limit, `tokens_per_minute: 0` no token limit. The request
/// bucket holds `burst` requests (at least one) and refills
/// `requests_per_minute / 60` per second; the token bucket holds
/// `tokens_per_minute` and refills `tokens_per_minute / 60` per second.
///
/// Waiting (`max_wait`) works by reservation: a request that must wait takes
/// its share at once, driving the balances negative, and is told how long until
/// that debt is paid off. Each later arrival therefore waits behind every
/// earlier one, which makes the wait first come, first served without a queue.
public struct RateLimitBuckets: Sendable, Equatable {
    public enum Admission: Sendable, Equatable {
        /// Taken; go ahead now.
        case admitted
        /// Taken, behind earlier requests; go ahead after this long, or `withdraw` if given up.
        case admittedAfter(Duration)
        /// Nothing taken. Both buckets have room after this long if nothing else spends.
        case refused(retryAfter: Duration)
        /// Nothing taken: the estimate is larger than the token bucket can ever
        /// hold, so waiting would not help (and taking it would lock the key out).
        case exceedsCapacity(capacity: Int)
    }

    public private(set) var requests: TokenBucket?
    public private(set) var tokens: TokenBucket?
    /// How long a request may wait for room instead of being refused.
    public private(set) var maxWait: Duration

    /// Full buckets for `limit`.
    public init(limit: RateLimit, now: Duration) {
        self.requests = nil
        self.tokens = nil
        self.maxWait = .zero
        apply(limit, now: now)
    }

    /// Admits one request that expects to use `tokens` model tokens.
    public mutating func admit(tokens amount: Int, now: Duration) -> Admission {
        if let tokens, Double(amount) > tokens.capacity {
            return .exceedsCapacity(capacity: Int(tokens.capacity))
        }
        let wait = timeUntilAdmissible(tokens: amount, now: now)
        guard wait <= maxWait else {
            return .refused(retryAfter: wait)
        }
        requests?.charge(1, now: now)
        if amount > 0 { tokens?.charge(amount, now: now) }
        return wait == .zero ? .admitted : .admittedAfter(wait)
    }

    /// Gives back what `admit` took for a request that gave up waiting.
    public mutating func withdraw(tokens amount: Int, now: Duration) {
        requests?.giveBack(1, now: now)
        tokens?.giveBack(amount, now: now)
    }

    /// Charges or gives back the difference between the tokens reserved and used.
    public mutating func settle(reservedTokens: Int, actualTokens: Int, now: Duration) {
        tokens?.settle(reserved: reservedTokens, actual: actualTokens, now: now)
    }

    /// How long until a request for `tokens` fits both buckets, if nothing else spends.
    /// A request for no tokens (a cache hit) needs only the request bucket, so a
    /// key in token debt is still served from the cache.
    public func timeUntilAdmissible(tokens amount: Int, now: Duration) -> Duration {
        let tokenWait = amount > 0 ? tokens?.timeUntilAvailable(amount, now: now) ?? .zero : .zero
        return max(requests?.timeUntilAvailable(1, now: now) ?? .zero, tokenWait)
    }

    /// Applies a changed limit: balances are kept (clamped to the new
    /// capacities); a bucket that becomes enabled starts full.
    public mutating func apply(_ limit: RateLimit, now: Duration) {
        let requestsPerMinute = Self.enabled(limit.requestsPerMinute)
        requests = Self.reconfigured(
            requests, capacity: requestsPerMinute.map { _ in max(1, limit.burst) }, perMinute: requestsPerMinute, now: now)
        let tokensPerMinute = Self.enabled(limit.tokensPerMinute)
        tokens = Self.reconfigured(tokens, capacity: tokensPerMinute, perMinute: tokensPerMinute, now: now)
        maxWait = max(.zero, limit.maxWait)
    }

    /// Whether both buckets have been full for at least `idleTime` at `now`, so
    /// that forgetting them changes nothing.
    public func isIdle(now: Duration, for idleTime: Duration) -> Bool {
        [requests, tokens].allSatisfy { bucket in
            guard let bucket else { return true }
            return now - bucket.fullAt >= idleTime
        }
    }

    /// The rate per minute when it enables a bucket, else `nil`.
    private static func enabled(_ perMinute: Double) -> Double? {
        perMinute.isFinite && perMinute > 0 ? perMinute : nil
    }

    private static func reconfigured(
        _ bucket: TokenBucket?, capacity: Double?, perMinute: Double?, now: Duration
    ) -> TokenBucket? {
        guard let capacity, let perMinute else { return nil }
        guard var bucket else {
            return TokenBucket(capacity: capacity, refillPerSecond: perMinute / 60, now: now)
        }
        bucket.reconfigure(capacity: capacity, refillPerSecond: perMinute / 60, now: now)
        return bucket
    }
}
