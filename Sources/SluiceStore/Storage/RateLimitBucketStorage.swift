/// The token buckets of client keys, kept where every daemon sharing them
/// sees the same levels, with the semantics of `TokenBucket`.
///
/// Each bucket is named per key (`requests`, `tokens`) and described anew by
/// every call (`BucketLimit`): a changed limit applies from the next call, the
/// level clamped to the new capacity. A bucket never seen starts full.
public protocol RateLimitBucketStorage: Sendable {
    /// Atomically: refills `keyID`'s buckets by the time passed since their
    /// last change, then, if every draw fits within `maxWait` seconds, takes
    /// every amount (into debt when it must wait); otherwise takes nothing.
    ///
    /// An amount of 0 never holds a take back (a cache hit needs no tokens,
    /// even from a key in token debt). An amount over the capacity needs a
    /// full bucket and is then taken in full; the daemon refuses such requests
    /// before asking (`RateLimitBuckets.Admission.exceedsCapacity`).
    func take(_ draws: [BucketDraw], forKey keyID: String, maxWait: Double) async throws -> BucketDecision

    /// Corrects a take of `reserved` from one bucket once `actual` is known:
    /// takes the difference (a debt of at most one full bucket) or gives it
    /// back (never beyond the capacity). `actual: 0` withdraws a take. A bucket
    /// never taken from is left alone.
    func settle(_ bucket: BucketLimit, forKey keyID: String, reserved: Int, actual: Int) async throws
}

/// One bucket of a key and the limit it has now.
public struct BucketLimit: Sendable, Equatable {
    /// `requests` or `tokens`.
    public var name: String
    public var capacity: Double
    public var refillPerSecond: Double

    public init(name: String, capacity: Double, refillPerSecond: Double) {
        self.name = name
        self.capacity = capacity
        self.refillPerSecond = refillPerSecond
    }
}

/// What one take needs from one bucket.
public struct BucketDraw: Sendable, Equatable {
    public var bucket: BucketLimit
    public var amount: Int

    public init(_ bucket: BucketLimit, amount: Int) {
        self.bucket = bucket
        self.amount = amount
    }
}

/// What a take decided.
public struct BucketDecision: Sendable, Equatable {
    /// Whether every amount was taken.
    public var isTaken: Bool
    /// Seconds until every draw fits, if nothing else takes or gives back:
    /// when taken, how long to wait before going ahead (0: at once); when
    /// refused, when to retry (`.infinity` for a bucket that never refills).
    public var waitSeconds: Double
    /// Whole tokens left in each bucket after the decision, never negative, by bucket name.
    public var remaining: [String: Int]

    public init(isTaken: Bool, waitSeconds: Double, remaining: [String: Int]) {
        self.isTaken = isTaken
        self.waitSeconds = waitSeconds
        self.remaining = remaining
    }
}
