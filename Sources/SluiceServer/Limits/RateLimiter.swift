import SluiceCore
import Synchronization

/// Token-bucket rate limits per client key id (see `RateLimitBuckets` for the
/// rules), shared by every request the daemon serves.
///
/// State lives beside its lock and is never held across an `await`. Buckets
/// are created on a key's first request and dropped once they have been full
/// for `idleTimeout`: `acquire` sweeps lazily about once a minute, so memory
/// stays bounded without a background service (`dropIdleBuckets` sweeps on
/// demand). Counting refusals is left to the caller.
public final class RateLimiter: Sendable {
    private struct State {
        var limits: LimitSettings
        var buckets: [String: RateLimitBuckets] = [:]
        var lastSweep: Duration = .zero

        /// Runs `body` on `keyID`'s buckets, creating full ones if the key has none
        /// (a dropped key's buckets were full, so nothing is lost).
        mutating func update<Result>(
            _ keyID: String, now: Duration, _ body: (inout RateLimitBuckets) -> Result
        ) -> Result {
            var buckets = buckets[keyID] ?? RateLimitBuckets(limit: limits.limit(for: keyID), now: now)
            let result = body(&buckets)
            self.buckets[keyID] = buckets
            return result
        }

        /// Sweeps at most once per `min(idleTimeout, 60s)`.
        mutating func sweepIfDue(now: Duration, idleTimeout: Duration) {
            guard now - lastSweep >= min(idleTimeout, .seconds(60)) else { return }
            sweep(now: now, idleTimeout: idleTimeout)
        }

        mutating func sweep(now: Duration, idleTimeout: Duration) {
            lastSweep = now
            buckets = buckets.filter { !$0.value.isIdle(now: now, for: idleTimeout) }
        }
    }

    private let state: Mutex<State>
    private let clock: ElapsedClock
    private let idleTimeout: Duration

    /// - Parameters:
    ///   - limits: limits by key id; give `LimitSettings.resolvingKeyIDs(of:)` in keys mode.
    ///   - clock: a monotonic clock (tests pass a manual one).
    ///   - idleTimeout: how long a key's buckets are kept after they are full again.
    public init<C: Clock>(
        limits: LimitSettings, clock: C = ContinuousClock(), idleTimeout: Duration = .seconds(600)
    ) where C.Duration == Duration {
        self.state = Mutex(State(limits: limits))
        self.clock = ElapsedClock(clock)
        self.idleTimeout = idleTimeout
    }

    /// Takes one request and `estimatedTokens` model tokens (0 for a cache hit)
    /// from `keyID`'s buckets.
    ///
    /// When there is no room and the key's `max_wait` allows, waits for its turn
    /// (first come, first served per key). A waiting request whose task is
    /// cancelled gives back what it took and gets `.refused`.
    public func acquire(keyID: String, estimatedTokens: Int) async -> RateLimitDecision {
        let tokens = max(0, estimatedTokens)
        let reservation = RateLimitReservation(keyID: keyID, tokens: tokens)
        let now = clock.now()
        let (admission, headers) = state.withLock { state in
            state.sweepIfDue(now: now, idleTimeout: idleTimeout)
            return state.update(keyID, now: now) { buckets in
                (buckets.admit(tokens: tokens, now: now), buckets.headers(now: now))
            }
        }
        switch admission {
        case .admitted:
            return .allowed(reservation, headers: headers)
        case .refused(let retryAfter):
            return .refused(retryAfterSeconds: RateLimitHeaders.retryAfterSeconds(retryAfter), headers: headers)
        case .exceedsCapacity(let capacity):
            return .tooLarge(estimate: tokens, capacity: capacity, headers: headers)
        case .admittedAfter(let wait):
            do {
                try await clock.sleep(wait)
            } catch {
                return withdraw(reservation)
            }
            return .allowed(reservation, headers: self.headers(for: keyID))
        }
    }

    /// `acquire` without suspending, for answers given on the event loop (cache
    /// hits). Returns nil, having taken nothing, for a key whose `max_wait` could
    /// make it wait: the caller then uses `acquire`.
    public func acquireWithoutWaiting(keyID: String, estimatedTokens: Int) -> RateLimitDecision? {
        let tokens = max(0, estimatedTokens)
        let now = clock.now()
        let outcome = state.withLock { state -> (RateLimitBuckets.Admission, RateLimitHeaders)? in
            guard state.limits.limit(for: keyID).maxWait <= .zero else { return nil }
            state.sweepIfDue(now: now, idleTimeout: idleTimeout)
            return state.update(keyID, now: now) { buckets in
                (buckets.admit(tokens: tokens, now: now), buckets.headers(now: now))
            }
        }
        guard let (admission, headers) = outcome else { return nil }
        switch admission {
        case .admitted:
            return .allowed(RateLimitReservation(keyID: keyID, tokens: tokens), headers: headers)
        case .refused(let retryAfter):
            return .refused(retryAfterSeconds: RateLimitHeaders.retryAfterSeconds(retryAfter), headers: headers)
        case .exceedsCapacity(let capacity):
            return .tooLarge(estimate: tokens, capacity: capacity, headers: headers)
        case .admittedAfter(let wait):
            // Not reachable without max_wait; refuse rather than wait on the event loop.
            return .refused(retryAfterSeconds: RateLimitHeaders.retryAfterSeconds(wait), headers: headers)
        }
    }

    /// Corrects a reservation once the tokens really used are known: charges
    /// the difference (the balance may go negative, down to minus one bucket)
    /// or gives it back. An answer without `usage` (an upstream error) settles at 0.
    public func settle(_ reservation: RateLimitReservation, actualTokens: Int) {
        let now = clock.now()
        state.withLock { state in
            state.update(reservation.keyID, now: now) { buckets in
                buckets.settle(reservedTokens: reservation.tokens, actualTokens: actualTokens, now: now)
            }
        }
    }

    /// Applies reloaded limits (SIGHUP) at once; bucket balances are kept.
    public func update(limits: LimitSettings) {
        let now = clock.now()
        state.withLock { state in
            state.limits = limits
            for keyID in state.buckets.keys {
                state.buckets[keyID]?.apply(limits.limit(for: keyID), now: now)
            }
        }
    }

    /// Forgets buckets that have been full for `idleTimeout`.
    public func dropIdleBuckets() {
        let now = clock.now()
        state.withLock { $0.sweep(now: now, idleTimeout: idleTimeout) }
    }

    /// Number of keys whose buckets are currently kept.
    public var trackedKeyCount: Int {
        state.withLock { $0.buckets.count }
    }

    /// The headers for `keyID` as they stand now.
    public func headers(for keyID: String) -> RateLimitHeaders {
        let now = clock.now()
        return state.withLock { state in
            state.update(keyID, now: now) { $0.headers(now: now) }
        }
    }

    private func withdraw(_ reservation: RateLimitReservation) -> RateLimitDecision {
        let now = clock.now()
        return state.withLock { state in
            state.update(reservation.keyID, now: now) { buckets in
                buckets.withdraw(tokens: reservation.tokens, now: now)
                let wait = buckets.timeUntilAdmissible(tokens: reservation.tokens, now: now)
                return .refused(retryAfterSeconds: RateLimitHeaders.retryAfterSeconds(wait), headers: buckets.headers(now: now))
            }
        }
    }
}
