import SluiceCore
import XCTest

final class RateLimitBucketsTests: XCTestCase {
    private let start: Duration = .seconds(1000)

    func testRequestBucketHoldsBurstAndRefillsPerMinuteOverSixty() {
        var buckets = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 120, burst: 3, tokensPerMinute: 0), now: start)
        for _ in 0..<3 {
            XCTAssertEqual(buckets.admit(tokens: 0, now: start), .admitted)
        }
        XCTAssertEqual(buckets.admit(tokens: 0, now: start), .refused(retryAfter: .milliseconds(500)))
        XCTAssertEqual(buckets.admit(tokens: 0, now: start + .milliseconds(500)), .admitted)
    }

    func testTokenBucketHoldsTokensPerMinute() {
        var buckets = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 600, burst: 60, tokensPerMinute: 1000), now: start)
        XCTAssertEqual(buckets.admit(tokens: 600, now: start), .admitted)
        XCTAssertEqual(buckets.admit(tokens: 600, now: start), .refused(retryAfter: .seconds(12)), "200 short at 1000/60 per s")
        XCTAssertEqual(buckets.admit(tokens: 400, now: start), .admitted)
        XCTAssertEqual(buckets.requests?.remaining(now: start), 58, "the refused request took nothing")
    }

    func testZeroTokensSpendsARequestButNoTokens() {
        var buckets = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 60, burst: 5, tokensPerMinute: 100), now: start)
        XCTAssertEqual(buckets.admit(tokens: 0, now: start), .admitted)
        XCTAssertEqual(buckets.tokens?.remaining(now: start), 100)
        XCTAssertEqual(buckets.requests?.remaining(now: start), 4)
    }

    func testAZeroRateDisablesThatBucket() {
        var unlimitedRequests = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 0, burst: 1, tokensPerMinute: 10), now: start)
        XCTAssertNil(unlimitedRequests.requests)
        for _ in 0..<100 {
            XCTAssertEqual(unlimitedRequests.admit(tokens: 0, now: start), .admitted)
        }
        XCTAssertEqual(unlimitedRequests.admit(tokens: 10, now: start), .admitted, "a full bucket's worth")
        XCTAssertNotEqual(unlimitedRequests.admit(tokens: 1, now: start), .admitted)

        var unlimitedTokens = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 60, burst: 1, tokensPerMinute: 0), now: start)
        XCTAssertNil(unlimitedTokens.tokens)
        XCTAssertEqual(unlimitedTokens.admit(tokens: 10_000_000, now: start), .admitted)
    }

    func testAnEstimateLargerThanTheBucketIsRefusedAndTakesNothing() {
        var buckets = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 60, burst: 5, tokensPerMinute: 1000, maxWait: .seconds(60)), now: start)
        XCTAssertEqual(buckets.admit(tokens: 1001, now: start), .exceedsCapacity(capacity: 1000))
        XCTAssertEqual(buckets.admit(tokens: Int.max, now: start), .exceedsCapacity(capacity: 1000), "max_tokens: 1e19")
        XCTAssertEqual(buckets.tokens?.remaining(now: start), 1000, "nothing was taken")
        XCTAssertEqual(buckets.requests?.remaining(now: start), 5)
        XCTAssertEqual(buckets.admit(tokens: 1000, now: start), .admitted, "exactly a bucket fits")
    }

    func testAHitIsServedWhileTheKeyIsInTokenDebt() {
        var buckets = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 600, burst: 10, tokensPerMinute: 100), now: start)
        XCTAssertEqual(buckets.admit(tokens: 100, now: start), .admitted)
        buckets.settle(reservedTokens: 100, actualTokens: 1_000_000, now: start)
        XCTAssertEqual(buckets.tokens?.balance(now: start) ?? .nan, -100, accuracy: 1e-9, "the debt is bounded")
        XCTAssertEqual(buckets.admit(tokens: 0, now: start), .admitted, "a cache hit spends no tokens")
        XCTAssertEqual(buckets.tokens?.balance(now: start) ?? .nan, -100, accuracy: 1e-9)
        if case .refused = buckets.admit(tokens: 1, now: start) {} else { XCTFail("a miss waits for the debt") }
    }

    func testABurstBelowOneStillAdmitsOneRequest() {
        var buckets = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 60, burst: 0, tokensPerMinute: 0), now: start)
        XCTAssertEqual(buckets.requests?.capacity, 1)
        XCTAssertEqual(buckets.admit(tokens: 0, now: start), .admitted)
        XCTAssertEqual(buckets.admit(tokens: 0, now: start), .refused(retryAfter: .seconds(1)))
    }

    func testWaitersAreAdmittedInArrivalOrderUpToMaxWait() {
        let limit = RateLimit(requestsPerMinute: 60, burst: 1, tokensPerMinute: 0, maxWait: .seconds(3))
        var buckets = RateLimitBuckets(limit: limit, now: start)
        XCTAssertEqual(buckets.admit(tokens: 0, now: start), .admitted)
        XCTAssertEqual(buckets.admit(tokens: 0, now: start), .admittedAfter(.seconds(1)))
        XCTAssertEqual(buckets.admit(tokens: 0, now: start), .admittedAfter(.seconds(2)))
        XCTAssertEqual(buckets.admit(tokens: 0, now: start), .admittedAfter(.seconds(3)))
        XCTAssertEqual(buckets.admit(tokens: 0, now: start), .refused(retryAfter: .seconds(4)), "behind three waiters")
        XCTAssertEqual(buckets.admit(tokens: 0, now: start + .milliseconds(1500)), .admittedAfter(.milliseconds(2500)))
    }

    func testWithdrawGivesBackWhatAWaiterTook() {
        let limit = RateLimit(requestsPerMinute: 60, burst: 1, tokensPerMinute: 600, maxWait: .seconds(60))
        var buckets = RateLimitBuckets(limit: limit, now: start)
        XCTAssertEqual(buckets.admit(tokens: 600, now: start), .admitted)
        XCTAssertEqual(buckets.admit(tokens: 300, now: start), .admittedAfter(.seconds(30)))
        buckets.withdraw(tokens: 300, now: start)
        XCTAssertEqual(buckets.timeUntilAdmissible(tokens: 300, now: start), .seconds(30), "as if the waiter never came")
        XCTAssertEqual(buckets.requests?.balance(now: start) ?? .nan, 0, accuracy: 1e-9)
    }

    func testSettlementCorrectsOnlyTheTokenBucket() {
        var buckets = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 60, burst: 2, tokensPerMinute: 6000), now: start)
        XCTAssertEqual(buckets.admit(tokens: 1000, now: start), .admitted)
        buckets.settle(reservedTokens: 1000, actualTokens: 7000, now: start)
        XCTAssertEqual(buckets.tokens?.balance(now: start) ?? .nan, -1000, accuracy: 1e-9)
        XCTAssertEqual(buckets.requests?.remaining(now: start), 1)
        XCTAssertEqual(buckets.admit(tokens: 10, now: start), .refused(retryAfter: .milliseconds(10_100)))
    }

    func testApplyingANewLimitKeepsBalances() {
        var buckets = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 60, burst: 10, tokensPerMinute: 1000), now: start)
        for _ in 0..<10 { _ = buckets.admit(tokens: 50, now: start) }
        buckets.apply(RateLimit(requestsPerMinute: 120, burst: 20, tokensPerMinute: 2000, maxWait: .seconds(5)), now: start)
        XCTAssertEqual(buckets.requests?.remaining(now: start), 0)
        XCTAssertEqual(buckets.requests?.capacity, 20)
        XCTAssertEqual(buckets.tokens?.remaining(now: start), 500)
        XCTAssertEqual(buckets.maxWait, .seconds(5))
        XCTAssertEqual(buckets.admit(tokens: 0, now: start), .admittedAfter(.milliseconds(500)), "the new rate applies at once")
    }

    func testApplyingCanDisableAndReEnableABucket() {
        var buckets = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 60, burst: 1, tokensPerMinute: 100), now: start)
        _ = buckets.admit(tokens: 100, now: start)
        buckets.apply(RateLimit(requestsPerMinute: 60, burst: 1, tokensPerMinute: 0), now: start)
        XCTAssertNil(buckets.tokens)
        buckets.apply(RateLimit(requestsPerMinute: 60, burst: 1, tokensPerMinute: 100), now: start)
        XCTAssertEqual(buckets.tokens?.remaining(now: start), 100, "a newly enabled bucket starts full")
    }

    func testIdleOnlyOnceBothBucketsHaveBeenFullForTheIdleTime() {
        var buckets = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 60, burst: 10, tokensPerMinute: 600), now: start)
        _ = buckets.admit(tokens: 600, now: start)
        let idle = Duration.seconds(600)
        // Requests are full again after 1 s, tokens after 60 s.
        XCTAssertFalse(buckets.isIdle(now: start + .seconds(601), for: idle))
        XCTAssertFalse(buckets.isIdle(now: start + .seconds(659), for: idle))
        XCTAssertTrue(buckets.isIdle(now: start + .seconds(660), for: idle))
        let disabled = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 0, burst: 0, tokensPerMinute: 0), now: start)
        XCTAssertTrue(disabled.isIdle(now: start, for: idle))
    }
}
