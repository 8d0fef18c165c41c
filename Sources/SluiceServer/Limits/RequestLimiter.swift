import SluiceCore

/// What the request path asks of the rate limits: this daemon's own buckets
/// (`RateLimiter`), or the buckets a fleet shares (`FleetRateLimiter`).
protocol RequestLimiter: Sendable {
    /// Takes one request and `estimatedTokens` model tokens (0 for a cache hit),
    /// waiting for room where the key's `max_wait` allows.
    func acquire(keyID: String, estimatedTokens: Int) async -> RateLimitDecision

    /// `acquire` without suspending, for answers given on the event loop; nil
    /// (nothing taken) when it cannot decide without waiting.
    func acquireWithoutWaiting(keyID: String, estimatedTokens: Int) -> RateLimitDecision?

    /// Corrects a reservation once the tokens really used are known.
    func settle(_ reservation: RateLimitReservation, actualTokens: Int)

    /// The headers for `keyID` as they stand now (after a settlement).
    func headers(for keyID: String) -> RateLimitHeaders

    /// Applies reloaded limits (SIGHUP); levels are kept.
    func update(limits: LimitSettings)
}

extension RateLimiter: RequestLimiter {}
