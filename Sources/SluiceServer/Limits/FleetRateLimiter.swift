import SluiceCore
import SluiceStore
import Synchronization

/// The rate limits of a fleet: every daemon on one database takes from the
/// same buckets (`RateLimitBucketStorage`: one atomic statement per request,
/// refilled by the database's clock), so a key's limit holds across all of them.
///
/// While the database cannot be reached each daemon limits with its own
/// buckets (`RateLimiter`, the same limits), logs that once per 30 s and counts
/// it in `sluice_failures_total{kind="shared_limits"}`; the first take that
/// works again goes back to the shared buckets.
final class FleetRateLimiter: RequestLimiter {
    private let shared: any RateLimitBucketStorage
    private let local: RateLimiter
    private let health: HealthMonitor
    private let breaker: DatabaseBreaker
    private let limits: Mutex<LimitSettings>
    /// The latest headers per key, from its latest take or settlement (bounded).
    private let latestHeaders = Mutex<[String: SharedBucketLevels]>([:])
    private static let latestHeadersLimit = 10_000

    init(shared: any RateLimitBucketStorage, limits: LimitSettings, health: HealthMonitor, breaker: DatabaseBreaker) {
        self.shared = shared
        self.local = RateLimiter(limits: limits)
        self.health = health
        self.breaker = breaker
        self.limits = Mutex(limits)
    }

    func acquire(keyID: String, estimatedTokens: Int) async -> RateLimitDecision {
        let tokens = max(0, estimatedTokens)
        let limit = limits.withLock { $0.limit(for: keyID) }
        let plan = SharedBucketPlan(limit)
        if let bucket = plan.tokens, Double(tokens) > bucket.capacity {
            return .tooLarge(estimate: tokens, capacity: Int(bucket.capacity), headers: headers(for: keyID))
        }
        guard !plan.isEmpty else { return .allowed(RateLimitReservation(keyID: keyID, tokens: tokens), headers: .none) }
        let decision: BucketDecision
        do {
            guard breaker.allowsRequests else { throw DatabaseUnavailable() }
            decision = try await shared.take(plan.draws(tokens: tokens), forKey: keyID, maxWait: limit.maxWait.inSeconds)
            breaker.succeeded()
            health.succeeded(.sharedLimits)
        } catch {
            if !(error is DatabaseUnavailable) { breaker.failed() }
            health.failed(.sharedLimits, error: error)
            return await local.acquire(keyID: keyID, estimatedTokens: tokens)
        }
        let levels = SharedBucketLevels(plan: plan, remaining: decision.remaining)
        remember(levels, for: keyID)
        let wait = Self.duration(seconds: decision.waitSeconds)
        guard decision.isTaken else {
            return .refused(retryAfterSeconds: RateLimitHeaders.retryAfterSeconds(wait), headers: levels.headers)
        }
        let reservation = RateLimitReservation(keyID: keyID, tokens: tokens, isShared: true)
        if wait > .zero {
            do {
                try await Task.sleep(for: wait)
            } catch {
                // Gave up waiting: give back what was taken.
                await giveBack(reservation, plan: plan)
                return .refused(retryAfterSeconds: RateLimitHeaders.retryAfterSeconds(wait), headers: levels.headers)
            }
        }
        return .allowed(reservation, headers: levels.headers)
    }

    /// Every take asks the database, so nothing is decided on the event loop.
    func acquireWithoutWaiting(keyID: String, estimatedTokens: Int) -> RateLimitDecision? { nil }

    func settle(_ reservation: RateLimitReservation, actualTokens: Int) {
        guard reservation.isShared else {
            local.settle(reservation, actualTokens: actualTokens)
            return
        }
        let actual = max(0, actualTokens)
        guard actual != reservation.tokens,
              let bucket = SharedBucketPlan(limits.withLock { $0.limit(for: reservation.keyID) }).tokens else { return }
        latestHeaders.withLock { $0[reservation.keyID]?.adjustTokens(by: reservation.tokens - actual) }
        // Off the request path: the answer does not wait for the database.
        let (shared, health) = (self.shared, self.health)
        Task {
            do {
                try await shared.settle(bucket, forKey: reservation.keyID, reserved: reservation.tokens, actual: actual)
            } catch {
                health.failed(.sharedLimits, error: error)
            }
        }
    }

    func headers(for keyID: String) -> RateLimitHeaders {
        latestHeaders.withLock { $0[keyID]?.headers } ?? local.headers(for: keyID)
    }

    func update(limits newLimits: LimitSettings) {
        limits.withLock { $0 = newLimits }
        local.update(limits: newLimits)
    }

    private func giveBack(_ reservation: RateLimitReservation, plan: SharedBucketPlan) async {
        if let requests = plan.requests {
            try? await shared.settle(requests, forKey: reservation.keyID, reserved: 1, actual: 0)
        }
        if let tokens = plan.tokens, reservation.tokens > 0 {
            try? await shared.settle(tokens, forKey: reservation.keyID, reserved: reservation.tokens, actual: 0)
        }
    }

    private func remember(_ levels: SharedBucketLevels, for keyID: String) {
        latestHeaders.withLock { latest in
            if latest.count >= Self.latestHeadersLimit, latest[keyID] == nil { latest.removeAll(keepingCapacity: true) }
            latest[keyID] = levels
        }
    }

    private static func duration(seconds: Double) -> Duration {
        guard seconds > 0 else { return .zero }
        return .seconds(min(seconds, Double(Int32.max)))
    }
}

/// A key's limit as the shared buckets it takes from: `requests` (capacity
/// `burst`) and `tokens` (capacity `tokens_per_minute`), each nil when off,
/// exactly as `RateLimitBuckets` sets them up.
struct SharedBucketPlan: Sendable {
    var requests: BucketLimit?
    var tokens: BucketLimit?

    init(_ limit: RateLimit) {
        if limit.requestsPerMinute.isFinite, limit.requestsPerMinute > 0 {
            requests = BucketLimit(name: "requests", capacity: max(1, limit.burst), refillPerSecond: limit.requestsPerMinute / 60)
        }
        if limit.tokensPerMinute.isFinite, limit.tokensPerMinute > 0 {
            tokens = BucketLimit(name: "tokens", capacity: limit.tokensPerMinute, refillPerSecond: limit.tokensPerMinute / 60)
        }
    }

    var isEmpty: Bool { requests == nil && tokens == nil }

    /// One request and `tokens` model tokens; the token bucket is asked for
    /// even at 0 tokens (a hit), so that its level is known for the headers.
    func draws(tokens amount: Int) -> [BucketDraw] {
        [requests.map { BucketDraw($0, amount: 1) }, tokens.map { BucketDraw($0, amount: amount) }].compactMap { $0 }
    }
}

/// What the latest take said of a key's shared buckets, as OpenAI's headers.
struct SharedBucketLevels: Sendable {
    var plan: SharedBucketPlan
    var remaining: [String: Int]

    mutating func adjustTokens(by difference: Int) {
        guard let bucket = plan.tokens, let current = remaining[bucket.name] else { return }
        remaining[bucket.name] = min(Int(bucket.capacity), max(0, current + difference))
    }

    var headers: RateLimitHeaders {
        RateLimitHeaders(fields: fields(plan.requests, unit: "requests") + fields(plan.tokens, unit: "tokens"))
    }

    private func fields(_ bucket: BucketLimit?, unit: String) -> [(String, String)] {
        guard let bucket else { return [] }
        let left = remaining[bucket.name] ?? Int(bucket.capacity)
        let untilFull = bucket.refillPerSecond > 0 ? max(0, bucket.capacity - Double(left)) / bucket.refillPerSecond : 0
        return [
            ("x-ratelimit-limit-\(unit)", String(Int(bucket.capacity))),
            ("x-ratelimit-remaining-\(unit)", String(left)),
            ("x-ratelimit-reset-\(unit)", RateLimitHeaders.formatReset(.seconds(min(untilFull, Double(Int32.max))))),
        ]
    }
}
