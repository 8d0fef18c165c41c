import SluiceCore
import SluiceStore

/// Fleet mode: identical requests in flight anywhere in the fleet make one
/// upstream call. Each daemon first coalesces its own requests
/// (`RequestCoalescer`); its leader then claims the key in `cache_flights`.
/// The daemon that holds the claim asks upstream, stores the answer in the
/// shared cache and releases it; the others poll for that answer for at most
/// `maxWait` (backing off to 4 polls a second), and ask upstream themselves when it does not come (the call
/// failed, the answer was not storable, or the database is away).
struct FleetFlights: Sendable {
    let flights: PostgresFlightStore
    let entries: PostgresCacheStore
    let breaker: DatabaseBreaker
    let clock: any WallClock
    /// How long a claim lasts (a daemon that died mid-call holds nobody up longer).
    let claimSeconds: Double
    let maxWait: Duration
    /// The first wait between polls; it doubles up to `longestPoll`, so a long
    /// LLM call elsewhere costs a few queries a second, not forty.
    var firstPoll = Duration.milliseconds(25)
    var longestPoll = Duration.milliseconds(250)

    enum Turn: Sendable {
        /// This daemon asks upstream; `release` the key afterwards.
        case lead
        /// Another daemon's answer, stored while this one waited.
        case answered(CachedResponse)
        /// Ask upstream without a claim.
        case alone
    }

    func turn(for key: CacheKey) async -> Turn {
        guard breaker.allowsRequests else { return .alone }
        do {
            if try await claim(key) { return .lead }
            let deadline = ContinuousClock.now + maxWait
            var poll = firstPoll
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: poll)
                poll = min(poll * 2, longestPoll)
                if let entry = try await freshEntry(key) { return .answered(entry) }
                guard try await !flights.isClaimed(key.hex, now: clock.now()) else { continue }
                // The claim ended: its answer is stored by now, or there is none.
                if let entry = try await freshEntry(key) { return .answered(entry) }
                if try await claim(key) { return .lead }
            }
            return .alone
        } catch is CancellationError {
            return .alone
        } catch {
            breaker.failed()
            return .alone
        }
    }

    func release(_ key: CacheKey) async {
        try? await flights.release(key.hex)
    }

    private func claim(_ key: CacheKey) async throws -> Bool {
        let now = clock.now()
        return try await flights.claim(key.hex, now: now, expiresAt: now + claimSeconds)
    }

    private func freshEntry(_ key: CacheKey) async throws -> CachedResponse? {
        guard let entry = try await entries.entry(forKey: key.hex), entry.isFresh(at: clock.now()) else { return nil }
        return entry
    }
}
