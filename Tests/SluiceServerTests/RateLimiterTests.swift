import SluiceCore
import SluiceServer
import Synchronization
import XCTest

final class RateLimiterTests: XCTestCase {
    private func limiter(
        _ limit: RateLimit, keys: [String: RateLimit] = [:], clock: RateLimiterManualClock
    ) -> RateLimiter {
        RateLimiter(limits: LimitSettings(default: limit, keys: keys), clock: clock)
    }

    private func isAllowed(_ decision: RateLimitDecision) -> Bool {
        if case .allowed = decision { return true }
        return false
    }

    private func retryAfter(_ decision: RateLimitDecision) -> Int? {
        if case .refused(let seconds, _) = decision { return seconds }
        return nil
    }

    func testBurstExhaustionIsRefusedWithAnHonestRetryAfter() async {
        let clock = RateLimiterManualClock()
        // 7 per minute: one request every 8.57 s.
        let limiter = limiter(RateLimit(requestsPerMinute: 7, burst: 2, tokensPerMinute: 0), clock: clock)
        for _ in 0..<2 {
            let allowed = await limiter.acquire(keyID: "k", estimatedTokens: 10)
            XCTAssertTrue(isAllowed(allowed))
        }
        let refused = await limiter.acquire(keyID: "k", estimatedTokens: 10)
        XCTAssertEqual(retryAfter(refused), 9)
        XCTAssertEqual(refused.headers["x-ratelimit-remaining-requests"], "0")
        XCTAssertEqual(refused.headers["x-ratelimit-limit-requests"], "2")

        clock.advance(by: .seconds(8))
        let early = await limiter.acquire(keyID: "k", estimatedTokens: 10)
        XCTAssertEqual(retryAfter(early), 1, "still honest after part of the wait")
        clock.advance(by: .seconds(1))
        let retried = await limiter.acquire(keyID: "k", estimatedTokens: 10)
        XCTAssertTrue(isAllowed(retried))
    }

    func testTokenLimitRefusesAndRetryAfterThatLongSucceeds() async {
        let clock = RateLimiterManualClock()
        let limiter = limiter(RateLimit(requestsPerMinute: 600, burst: 60, tokensPerMinute: 900), clock: clock)
        let first = await limiter.acquire(keyID: "k", estimatedTokens: 800)
        XCTAssertTrue(isAllowed(first))
        let second = await limiter.acquire(keyID: "k", estimatedTokens: 500)
        XCTAssertEqual(retryAfter(second), 27, "400 short at 15 tokens/s = 26.7 s")
        XCTAssertEqual(second.headers["x-ratelimit-remaining-tokens"], "100")
        clock.advance(by: .seconds(27))
        let retried = await limiter.acquire(keyID: "k", estimatedTokens: 500)
        XCTAssertTrue(isAllowed(retried))
    }

    func testTwoKeysDoNotShareBuckets() async {
        let clock = RateLimiterManualClock()
        let limiter = limiter(RateLimit(requestsPerMinute: 60, burst: 1, tokensPerMinute: 0),
                              keys: ["roomy": RateLimit(requestsPerMinute: 60, burst: 3, tokensPerMinute: 0)], clock: clock)
        let a = await limiter.acquire(keyID: "a", estimatedTokens: 0)
        let b = await limiter.acquire(keyID: "b", estimatedTokens: 0)
        let aAgain = await limiter.acquire(keyID: "a", estimatedTokens: 0)
        XCTAssertTrue(isAllowed(a))
        XCTAssertTrue(isAllowed(b))
        XCTAssertFalse(isAllowed(aAgain))
        let roomy = await limiter.acquire(keyID: "roomy", estimatedTokens: 0)
        XCTAssertEqual(roomy.headers["x-ratelimit-limit-requests"], "3", "per-key limits apply")
        XCTAssertEqual(limiter.trackedKeyCount, 3)
    }

    func testCacheHitsSpendARequestButNoTokens() async {
        let clock = RateLimiterManualClock()
        let limiter = limiter(RateLimit(requestsPerMinute: 600, burst: 60, tokensPerMinute: 1000), clock: clock)
        for _ in 0..<10 {
            let hit = await limiter.acquire(keyID: "k", estimatedTokens: 0)
            XCTAssertEqual(hit.headers["x-ratelimit-remaining-tokens"], "1000")
        }
        XCTAssertEqual(limiter.headers(for: "k")["x-ratelimit-remaining-requests"], "50")
    }

    func testSettlementChargesAnUnderEstimateAndGivesBackAnOverEstimate() async throws {
        let clock = RateLimiterManualClock()
        let limiter = limiter(RateLimit(requestsPerMinute: 600, burst: 60, tokensPerMinute: 600), clock: clock)
        guard case .allowed(let reservation, _) = await limiter.acquire(keyID: "k", estimatedTokens: 100) else {
            return XCTFail("refused")
        }
        XCTAssertEqual(reservation, RateLimitReservation(keyID: "k", tokens: 100))
        limiter.settle(reservation, actualTokens: 40)
        XCTAssertEqual(limiter.headers(for: "k")["x-ratelimit-remaining-tokens"], "560")

        guard case .allowed(let big, _) = await limiter.acquire(keyID: "k", estimatedTokens: 100) else {
            return XCTFail("refused")
        }
        limiter.settle(big, actualTokens: 1_000)
        XCTAssertEqual(limiter.headers(for: "k")["x-ratelimit-remaining-tokens"], "0")
        let refused = await limiter.acquire(keyID: "k", estimatedTokens: 1)
        XCTAssertEqual(retryAfter(refused), 45, "a debt of 440 plus 1 at 10 tokens/s")
    }

    func testWaitersAreServedFirstComeFirstServedWithinMaxWait() async throws {
        let clock = RateLimiterManualClock()
        let limiter = limiter(RateLimit(requestsPerMinute: 60, burst: 1, tokensPerMinute: 0, maxWait: .seconds(2)), clock: clock)
        let first = await limiter.acquire(keyID: "k", estimatedTokens: 0)
        XCTAssertTrue(isAllowed(first))

        let served = ServedOrder()
        let second = Task {
            let decision = await limiter.acquire(keyID: "k", estimatedTokens: 0)
            served.append("second")
            return decision
        }
        try await clock.waitForSleepers(1)
        let third = Task {
            let decision = await limiter.acquire(keyID: "k", estimatedTokens: 0)
            served.append("third")
            return decision
        }
        try await clock.waitForSleepers(2)

        let fourth = await limiter.acquire(keyID: "k", estimatedTokens: 0)
        XCTAssertEqual(retryAfter(fourth), 3, "would wait behind two, longer than max_wait")

        clock.advance(by: .milliseconds(999))
        XCTAssertEqual(clock.sleeperCount, 2)
        clock.advance(by: .milliseconds(1))
        try await clock.waitForSleepers(1)
        let secondDecision = await second.value
        XCTAssertTrue(isAllowed(secondDecision))
        XCTAssertEqual(served.names, ["second"])
        XCTAssertEqual(clock.sleeperCount, 1)

        clock.advance(by: .seconds(1))
        try await clock.waitForSleepers(0)
        let thirdDecision = await third.value
        XCTAssertTrue(isAllowed(thirdDecision))
        XCTAssertEqual(served.names, ["second", "third"])
    }

    func testACancelledWaiterIsRefusedAndGivesBackItsPlace() async throws {
        let clock = RateLimiterManualClock()
        let limiter = limiter(RateLimit(requestsPerMinute: 60, burst: 1, tokensPerMinute: 0, maxWait: .seconds(10)), clock: clock)
        _ = await limiter.acquire(keyID: "k", estimatedTokens: 0)
        let cancelled = Task { await limiter.acquire(keyID: "k", estimatedTokens: 0) }
        try await clock.waitForSleepers(1)
        let later = Task { await limiter.acquire(keyID: "k", estimatedTokens: 0) }
        try await clock.waitForSleepers(2)

        cancelled.cancel()
        let cancelledDecision = await cancelled.value
        XCTAssertNotNil(retryAfter(cancelledDecision))
        XCTAssertEqual(clock.sleeperCount, 1)

        clock.advance(by: .seconds(2))
        try await clock.waitForSleepers(0)
        let laterDecision = await later.value
        XCTAssertTrue(isAllowed(laterDecision), "the waiter behind is still served on time")
        XCTAssertEqual(limiter.headers(for: "k")["x-ratelimit-remaining-requests"], "1",
                       "the cancelled waiter's request went back to the bucket")
    }

    func testAWaiterCancelledBeforeItSleepsIsRefused() async {
        let clock = RateLimiterManualClock()
        let limiter = limiter(RateLimit(requestsPerMinute: 60, burst: 1, tokensPerMinute: 0, maxWait: .seconds(10)), clock: clock)
        _ = await limiter.acquire(keyID: "k", estimatedTokens: 0)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await limiter.acquire(keyID: "k", estimatedTokens: 0)
        }
        let decision = await task.value
        XCTAssertEqual(retryAfter(decision), 1)
        XCTAssertEqual(clock.sleeperCount, 0)
    }

    func testUpdateAppliesNewLimitsAndKeepsBuckets() async {
        let clock = RateLimiterManualClock()
        let limiter = limiter(RateLimit(requestsPerMinute: 60, burst: 2, tokensPerMinute: 0), clock: clock)
        _ = await limiter.acquire(keyID: "k", estimatedTokens: 0)
        _ = await limiter.acquire(keyID: "k", estimatedTokens: 0)

        limiter.update(limits: LimitSettings(default: RateLimit(requestsPerMinute: 600, burst: 100, tokensPerMinute: 0)))
        let afterReload = await limiter.acquire(keyID: "k", estimatedTokens: 0)
        XCTAssertEqual(retryAfter(afterReload), 1, "the bucket was not reset to the new burst")
        XCTAssertEqual(afterReload.headers["x-ratelimit-limit-requests"], "100")
        clock.advance(by: .milliseconds(100))
        let refilled = await limiter.acquire(keyID: "k", estimatedTokens: 0)
        XCTAssertTrue(isAllowed(refilled), "the new rate applies at once")
    }

    func testUpdateCanGiveAKeyItsOwnLimit() async {
        let clock = RateLimiterManualClock()
        let limiter = limiter(RateLimit(requestsPerMinute: 60, burst: 5, tokensPerMinute: 0), clock: clock)
        _ = await limiter.acquire(keyID: "web", estimatedTokens: 0)
        limiter.update(limits: LimitSettings(default: RateLimit(requestsPerMinute: 60, burst: 5, tokensPerMinute: 0),
                                             keys: ["web": RateLimit(requestsPerMinute: 60, burst: 2, tokensPerMinute: 0)]))
        XCTAssertEqual(limiter.headers(for: "web")["x-ratelimit-remaining-requests"], "2")
        XCTAssertEqual(limiter.headers(for: "other")["x-ratelimit-remaining-requests"], "5")
    }

    func testIdleBucketsAreDropped() async {
        let clock = RateLimiterManualClock()
        let limiter = limiter(RateLimit(requestsPerMinute: 60, burst: 2, tokensPerMinute: 600), clock: clock)
        _ = await limiter.acquire(keyID: "old", estimatedTokens: 600)
        clock.advance(by: .seconds(300))
        _ = await limiter.acquire(keyID: "recent", estimatedTokens: 10)
        clock.advance(by: .seconds(359))
        limiter.dropIdleBuckets()
        XCTAssertEqual(limiter.trackedKeyCount, 2, "old is full again since 60 s: idle for 599 s only")
        clock.advance(by: .seconds(1))
        limiter.dropIdleBuckets()
        XCTAssertEqual(limiter.trackedKeyCount, 1)
        clock.advance(by: .seconds(300))
        _ = await limiter.acquire(keyID: "new", estimatedTokens: 0)
        XCTAssertEqual(limiter.trackedKeyCount, 1, "acquire sweeps lazily: recent went idle too")
    }

    func testSettlingAfterTheBucketWasDroppedStartsFromFull() async {
        let clock = RateLimiterManualClock()
        let limiter = limiter(RateLimit(requestsPerMinute: 60, burst: 2, tokensPerMinute: 600), clock: clock)
        guard case .allowed(let reservation, _) = await limiter.acquire(keyID: "k", estimatedTokens: 100) else {
            return XCTFail("refused")
        }
        clock.advance(by: .seconds(3600))
        limiter.dropIdleBuckets()
        XCTAssertEqual(limiter.trackedKeyCount, 0)
        limiter.settle(reservation, actualTokens: 400)
        XCTAssertEqual(limiter.headers(for: "k")["x-ratelimit-remaining-tokens"], "300")
    }

    func testNegativeEstimatesTakeNoTokens() async {
        let clock = RateLimiterManualClock()
        let limiter = limiter(RateLimit(requestsPerMinute: 60, burst: 2, tokensPerMinute: 600), clock: clock)
        let decision = await limiter.acquire(keyID: "k", estimatedTokens: -500)
        guard case .allowed(let reservation, let headers) = decision else { return XCTFail("refused") }
        XCTAssertEqual(reservation.tokens, 0)
        XCTAssertEqual(headers["x-ratelimit-remaining-tokens"], "600")
    }
}

/// The order in which concurrent requests were let through.
private final class ServedOrder: Sendable {
    private let state = Mutex<[String]>([])

    func append(_ name: String) { state.withLock { $0.append(name) } }
    var names: [String] { state.withLock { $0 } }
}
