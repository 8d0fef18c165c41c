import PostgresNIO
import SluiceCore
@testable import SluiceStore
import XCTest

final class PostgresBucketStoreTests: PostgresTestCase, @unchecked Sendable {
    private func requests(_ capacity: Double, perSecond rate: Double = 0) -> BucketLimit {
        BucketLimit(name: "requests", capacity: capacity, refillPerSecond: rate)
    }

    private func tokens(_ capacity: Double, perSecond rate: Double = 0) -> BucketLimit {
        BucketLimit(name: "tokens", capacity: capacity, refillPerSecond: rate)
    }

    /// Moves the key's buckets' last change `seconds` into the past (negative: the future).
    private func age(_ keyID: String, by seconds: Double, in database: PostgreSQLDatabase) async throws {
        try await database.client.query("""
            UPDATE rate_limit_buckets SET updated_at = updated_at - make_interval(secs => \(seconds)) WHERE key_id = \(keyID)
            """)
    }

    func testANewBucketStartsFull() async throws {
        try await withFreshDatabase { database in
            let buckets: any RateLimitBucketStorage = PostgresBucketStore(database: database)
            let decision = try await buckets.take([BucketDraw(self.requests(5), amount: 1)], forKey: "web", maxWait: 0)
            XCTAssertEqual(decision, BucketDecision(isTaken: true, waitSeconds: 0, remaining: ["requests": 4]))
        }
    }

    func testTakesUntilEmptyThenRefusesWithTheTimeUntilRoom() async throws {
        try await withFreshDatabase { database in
            let buckets = PostgresBucketStore(database: database)
            let limit = self.requests(3, perSecond: 1)
            for left in [2, 1, 0] {
                let decision = try await buckets.take([BucketDraw(limit, amount: 1)], forKey: "web", maxWait: 0)
                XCTAssertTrue(decision.isTaken)
                XCTAssertEqual(decision.remaining["requests"], left)
            }
            let refused = try await buckets.take([BucketDraw(limit, amount: 1)], forKey: "web", maxWait: 0)
            XCTAssertFalse(refused.isTaken)
            XCTAssertEqual(refused.remaining["requests"], 0)
            XCTAssertGreaterThan(refused.waitSeconds, 0.5)
            XCTAssertLessThanOrEqual(refused.waitSeconds, 1)
            // Another key has buckets of its own.
            let other = try await buckets.take([BucketDraw(limit, amount: 1)], forKey: "batch", maxWait: 0)
            XCTAssertTrue(other.isTaken)
        }
    }

    func testABucketThatNeverRefillsSaysSo() async throws {
        try await withFreshDatabase { database in
            let buckets = PostgresBucketStore(database: database)
            _ = try await buckets.take([BucketDraw(self.requests(1), amount: 1)], forKey: "web", maxWait: 0)
            let refused = try await buckets.take([BucketDraw(self.requests(1), amount: 1)], forKey: "web", maxWait: 60)
            XCTAssertFalse(refused.isTaken)
            XCTAssertEqual(refused.waitSeconds, .infinity)
        }
    }

    func testConcurrentTakesFromManyDaemonsNeverOversell() async throws {
        let url = try freshDatabaseURL()
        let capacity = 50
        let limits = [requests(Double(capacity)), tokens(1_000_000)]
        let taken = try await withThrowingTaskGroup(of: Int.self) { daemons in
            for _ in 0..<3 {
                daemons.addTask {
                    try await self.withDatabase(url, maximumConnections: 4) { database in
                        let buckets = PostgresBucketStore(database: database)
                        return try await withThrowingTaskGroup(of: Bool.self) { takes in
                            for _ in 0..<40 {
                                takes.addTask {
                                    try await buckets.take(
                                        limits.map { BucketDraw($0, amount: 1) }, forKey: "shared", maxWait: 0
                                    ).isTaken
                                }
                            }
                            return try await takes.reduce(0) { $0 + ($1 ? 1 : 0) }
                        }
                    }
                }
            }
            return try await daemons.reduce(0, +)
        }
        XCTAssertEqual(taken, capacity)
        let left = try await withDatabase(url) { database in
            try await database.client.query(
                "SELECT level FROM rate_limit_buckets WHERE key_id = 'shared' ORDER BY bucket"
            ).collect().map { try $0.decode(Double.self) }
        }
        XCTAssertEqual(left, [0, 1_000_000 - Double(capacity)])
    }

    func testRefillFollowsTheDatabaseClockAndStopsAtTheCapacity() async throws {
        try await withFreshDatabase { database in
            let buckets = PostgresBucketStore(database: database)
            let limit = self.tokens(10, perSecond: 20)
            let first = try await buckets.take([BucketDraw(limit, amount: 10)], forKey: "web", maxWait: 0)
            XCTAssertTrue(first.isTaken)
            // 0.4 s on the database clock refills 8 of 10.
            try await Task.sleep(for: .milliseconds(400))
            let refilled = try await buckets.take([BucketDraw(limit, amount: 5)], forKey: "web", maxWait: 0)
            XCTAssertTrue(refilled.isTaken, "\(refilled)")
            XCTAssertGreaterThanOrEqual(refilled.remaining["tokens"] ?? -1, 3)
            // An hour idle fills the bucket, and not beyond.
            try await self.age("web", by: 3_600, in: database)
            let full = try await buckets.take([BucketDraw(limit, amount: 0)], forKey: "web", maxWait: 0)
            XCTAssertEqual(full.remaining["tokens"], 10)
        }
    }

    func testAClockThatGoesBackRefillsNothingAndTakesNothingExtra() async throws {
        try await withFreshDatabase { database in
            let buckets = PostgresBucketStore(database: database)
            let limit = self.tokens(10, perSecond: 1)
            _ = try await buckets.take([BucketDraw(limit, amount: 4)], forKey: "web", maxWait: 0)
            try await self.age("web", by: -60, in: database)
            let decision = try await buckets.take([BucketDraw(limit, amount: 1)], forKey: "web", maxWait: 0)
            XCTAssertEqual(decision.remaining["tokens"], 5)
        }
    }

    func testTakesThatMayWaitGoIntoDebtFirstComeFirstServed() async throws {
        try await withFreshDatabase { database in
            let buckets = PostgresBucketStore(database: database)
            let limit = self.requests(2, perSecond: 10)
            let now = try await buckets.take([BucketDraw(limit, amount: 2)], forKey: "web", maxWait: 1)
            XCTAssertEqual(now.waitSeconds, 0)
            let second = try await buckets.take([BucketDraw(limit, amount: 1)], forKey: "web", maxWait: 1)
            XCTAssertTrue(second.isTaken)
            XCTAssertEqual(second.waitSeconds, 0.1, accuracy: 0.05)
            let third = try await buckets.take([BucketDraw(limit, amount: 1)], forKey: "web", maxWait: 1)
            XCTAssertTrue(third.isTaken)
            XCTAssertEqual(third.waitSeconds, 0.2, accuracy: 0.05)
            XCTAssertEqual(third.remaining["requests"], 0)
            let refused = try await buckets.take([BucketDraw(limit, amount: 1)], forKey: "web", maxWait: 0.2)
            XCTAssertFalse(refused.isTaken)
            XCTAssertEqual(refused.waitSeconds, 0.3, accuracy: 0.05)
        }
    }

    func testATakeIsAllOrNothingAcrossBuckets() async throws {
        try await withFreshDatabase { database in
            let buckets = PostgresBucketStore(database: database)
            let draws = [BucketDraw(self.requests(10), amount: 1), BucketDraw(self.tokens(100), amount: 80)]
            let first = try await buckets.take(draws, forKey: "web", maxWait: 0)
            XCTAssertEqual(first, BucketDecision(isTaken: true, waitSeconds: 0, remaining: ["requests": 9, "tokens": 20]))
            let refused = try await buckets.take(draws, forKey: "web", maxWait: 0)
            XCTAssertEqual(refused, BucketDecision(isTaken: false, waitSeconds: .infinity, remaining: ["requests": 9, "tokens": 20]))
        }
    }

    func testAZeroAmountNeverHoldsATakeBack() async throws {
        try await withFreshDatabase { database in
            let buckets = PostgresBucketStore(database: database)
            let tokens = self.tokens(100)
            _ = try await buckets.take([BucketDraw(self.requests(10), amount: 1), BucketDraw(tokens, amount: 100)],
                                       forKey: "web", maxWait: 0)
            try await buckets.settle(tokens, forKey: "web", reserved: 100, actual: 150)
            // In token debt, a cache hit (no tokens) is still served.
            let hit = try await buckets.take([BucketDraw(self.requests(10), amount: 1), BucketDraw(tokens, amount: 0)],
                                             forKey: "web", maxWait: 0)
            XCTAssertEqual(hit, BucketDecision(isTaken: true, waitSeconds: 0, remaining: ["requests": 8, "tokens": 0]))
        }
    }

    func testAnAmountOverTheCapacityNeedsAFullBucketAndTakesItAll() async throws {
        try await withFreshDatabase { database in
            let buckets = PostgresBucketStore(database: database)
            let limit = self.tokens(100)
            let big = try await buckets.take([BucketDraw(limit, amount: 150)], forKey: "web", maxWait: 0)
            XCTAssertTrue(big.isTaken)
            let next = try await buckets.take([BucketDraw(limit, amount: 1)], forKey: "web", maxWait: 0)
            XCTAssertFalse(next.isTaken)
            let level = try await database.client.query("SELECT level FROM rate_limit_buckets").collect().first?.decode(Double.self)
            XCTAssertEqual(level, -50)
        }
    }

    func testSettlingChargesAtMostOneBucketOfDebtAndRefundsNeverOverfill() async throws {
        try await withFreshDatabase { database in
            let buckets = PostgresBucketStore(database: database)
            let limit = self.tokens(100)
            _ = try await buckets.take([BucketDraw(limit, amount: 10)], forKey: "web", maxWait: 0)
            try await buckets.settle(limit, forKey: "web", reserved: 10, actual: 500)
            var level = try await database.client.query("SELECT level FROM rate_limit_buckets").collect().first?.decode(Double.self)
            XCTAssertEqual(level, -100)
            try await buckets.settle(limit, forKey: "web", reserved: 300, actual: 0)
            level = try await database.client.query("SELECT level FROM rate_limit_buckets").collect().first?.decode(Double.self)
            XCTAssertEqual(level, 100)
            try await buckets.settle(limit, forKey: "web", reserved: 5, actual: 5)
            try await buckets.settle(limit, forKey: "never-seen", reserved: 5, actual: 50)
            let rows = try await database.client.query("SELECT count(*) FROM rate_limit_buckets").collect().first?.decode(Int.self)
            XCTAssertEqual(rows, 1, "settling a bucket never taken from creates none")
        }
    }

    func testAChangedLimitAppliesFromTheNextCall() async throws {
        try await withFreshDatabase { database in
            let buckets = PostgresBucketStore(database: database)
            _ = try await buckets.take([BucketDraw(self.requests(10), amount: 2)], forKey: "web", maxWait: 0)
            let smaller = try await buckets.take([BucketDraw(self.requests(5), amount: 1)], forKey: "web", maxWait: 0)
            XCTAssertEqual(smaller.remaining["requests"], 4, "the level is clamped to the new capacity")
        }
    }

    func testABucketNamedTwiceIsRefused() async throws {
        try await withFreshDatabase { database in
            do {
                _ = try await PostgresBucketStore(database: database).take(
                    [BucketDraw(self.requests(1), amount: 1), BucketDraw(self.requests(2), amount: 1)], forKey: "web", maxWait: 0)
                XCTFail("took from a bucket named twice")
            } catch let error as PostgresStoreError {
                XCTAssertTrue("\(error)".contains("named twice"), "\(error)")
            }
        }
    }

    /// Takes and settlements on a bucket that never refills (so that no time
    /// passes for either) agree with the in-memory `TokenBucket` step by step.
    /// (Takes of 0 differ on purpose: they never wait, as in `RateLimitBuckets`.)
    func testAgreesWithTheInMemoryTokenBucket() async throws {
        try await withFreshDatabase { database in
            let buckets = PostgresBucketStore(database: database)
            let limit = self.tokens(50)
            var memory = TokenBucket(capacity: 50, refillPerSecond: 0, now: .zero)
            // The store keeps a bucket from its first take on.
            _ = try await buckets.take([BucketDraw(limit, amount: 0)], forKey: "web", maxWait: 0)
            var seed: UInt64 = 0x5EED
            func next(_ bound: Int) -> Int {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Int((seed >> 33) % UInt64(bound))
            }
            for step in 0..<60 {
                let amount = 1 + next(30)
                if next(3) == 0 {
                    let actual = next(60)
                    memory.settle(reserved: amount, actual: actual, now: .zero)
                    try await buckets.settle(limit, forKey: "web", reserved: amount, actual: actual)
                    let decision = try await buckets.take([BucketDraw(limit, amount: 0)], forKey: "web", maxWait: 0)
                    XCTAssertEqual(decision.remaining["tokens"], memory.remaining(now: .zero), "step \(step): settle")
                } else {
                    let taken = memory.tryTake(amount, now: .zero)
                    let decision = try await buckets.take([BucketDraw(limit, amount: amount)], forKey: "web", maxWait: 0)
                    XCTAssertEqual(decision.isTaken, taken, "step \(step): take \(amount)")
                    XCTAssertEqual(decision.remaining["tokens"], memory.remaining(now: .zero), "step \(step): take \(amount)")
                }
            }
        }
    }
}
