import SluiceCore
import XCTest

final class RateLimitHeadersTests: XCTestCase {
    func testResetDurationsAreWrittenAsOpenAIDoes() {
        let cases: [(Duration, String)] = [
            (.zero, "0s"),
            (.nanoseconds(1), "1ms"),
            (.milliseconds(120), "120ms"),
            (.microseconds(999_200), "1s"),
            (.seconds(1), "1s"),
            (.milliseconds(1500), "1.5s"),
            (.milliseconds(1250), "1.25s"),
            (.milliseconds(1005), "1.005s"),
            (.seconds(60), "1m0s"),
            (.seconds(360), "6m0s"),
            (.milliseconds(90_500), "1m30.5s"),
            (.seconds(3600), "1h0m0s"),
            (.seconds(3723), "1h2m3s"),
            (.seconds(-3), "0s"),
        ]
        for (duration, expected) in cases {
            XCTAssertEqual(RateLimitHeaders.formatReset(duration), expected, "\(duration)")
        }
    }

    func testRetryAfterRoundsUpToWholeSecondsAndIsAtLeastOne() {
        XCTAssertEqual(RateLimitHeaders.retryAfterSeconds(.milliseconds(200)), 1)
        XCTAssertEqual(RateLimitHeaders.retryAfterSeconds(.seconds(1)), 1)
        XCTAssertEqual(RateLimitHeaders.retryAfterSeconds(.seconds(1) + .nanoseconds(1)), 2)
        XCTAssertEqual(RateLimitHeaders.retryAfterSeconds(.seconds(30)), 30)
        XCTAssertEqual(RateLimitHeaders.retryAfterSeconds(.zero), 1)
        XCTAssertEqual(RateLimitHeaders.retryAfterSeconds(.seconds(Int64.max)), Int(Int32.max))
    }

    func testHeadersDescribeBothBucketsInOrder() {
        let now = Duration.seconds(50)
        var buckets = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 600, burst: 60, tokensPerMinute: 200_000), now: now)
        _ = buckets.admit(tokens: 1500, now: now)
        let headers = buckets.headers(now: now)
        XCTAssertEqual(headers.fields.map(\.0), [
            "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
            "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens",
        ])
        XCTAssertEqual(headers.fields.map(\.1), ["60", "59", "100ms", "200000", "198500", "450ms"])
        XCTAssertEqual(headers["x-ratelimit-remaining-tokens"], "198500")
        XCTAssertNil(headers["retry-after"])
    }

    func testRemainingIsNeverNegativeAndResetCoversADebt() {
        var bucket = TokenBucket(capacity: 100, refillPerSecond: 1, now: .zero)
        bucket.charge(250, now: .zero)
        let headers = RateLimitHeaders(requests: nil, tokens: bucket, now: .zero)
        XCTAssertEqual(headers["x-ratelimit-remaining-tokens"], "0")
        XCTAssertEqual(headers["x-ratelimit-reset-tokens"], "4m10s")
    }

    func testADisabledBucketHasNoHeaders() {
        let buckets = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 60, burst: 5, tokensPerMinute: 0), now: .zero)
        XCTAssertEqual(buckets.headers(now: .zero).fields.map(\.0), [
            "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
        ])
        let none = RateLimitBuckets(limit: RateLimit(requestsPerMinute: 0, burst: 5, tokensPerMinute: 0), now: .zero)
        XCTAssertEqual(none.headers(now: .zero), .none)
    }
}
