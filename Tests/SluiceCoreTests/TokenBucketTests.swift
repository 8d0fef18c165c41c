import SluiceCore
import XCTest

final class TokenBucketTests: XCTestCase {
    private func at(_ seconds: Double) -> Duration { .milliseconds(Int64(seconds * 1000)) }

    func testStartsFullAndRefillsContinuouslyUpToCapacity() {
        var bucket = TokenBucket(capacity: 10, refillPerSecond: 2, now: at(0))
        XCTAssertEqual(bucket.remaining(now: at(0)), 10)
        XCTAssertTrue(bucket.tryTake(10, now: at(0)))
        XCTAssertEqual(bucket.remaining(now: at(0)), 0)
        XCTAssertEqual(bucket.remaining(now: at(0.4)), 0)
        XCTAssertEqual(bucket.remaining(now: at(0.5)), 1)
        XCTAssertEqual(bucket.balance(now: at(2.25)), 4.5, accuracy: 1e-9)
        XCTAssertEqual(bucket.remaining(now: at(1000)), 10, "refill stops at capacity")
    }

    func testRefusedTakeLeavesTheBucketAsItWas() {
        var bucket = TokenBucket(capacity: 5, refillPerSecond: 1, now: at(0))
        XCTAssertTrue(bucket.tryTake(3, now: at(0)))
        let before = bucket
        XCTAssertFalse(bucket.tryTake(3, now: at(0)))
        XCTAssertEqual(bucket, before)
        XCTAssertTrue(bucket.tryTake(2, now: at(0)))
    }

    func testBurstIsServedAtOnceThenTheRefillRate() {
        var bucket = TokenBucket(capacity: 3, refillPerSecond: 1, now: at(0))
        let served = (0..<5).filter { _ in bucket.tryTake(1, now: at(0)) }.count
        XCTAssertEqual(served, 3)
        XCTAssertFalse(bucket.tryTake(1, now: at(0.999)))
        XCTAssertTrue(bucket.tryTake(1, now: at(1)))
        XCTAssertFalse(bucket.tryTake(1, now: at(1.5)))
    }

    /// Waiting exactly `timeUntilAvailable` is enough, and a millisecond less is
    /// not, for rates whose per-second refill is not a round number.
    func testTimeUntilAvailableIsExactForAwkwardRates() {
        for perMinute in [1.0, 7, 13, 600, 200_000, 9_999_999] {
            for amount in [1, 3, 1000] {
                var bucket = TokenBucket(capacity: perMinute, refillPerSecond: perMinute / 60, now: at(5))
                bucket.charge(Int(perMinute), now: at(5))
                let needed = min(amount, Int(perMinute))
                let wait = bucket.timeUntilAvailable(amount, now: at(5))
                XCTAssertGreaterThan(wait, .zero)
                XCTAssertFalse(bucket.canTake(needed, now: at(5) + wait - .milliseconds(1)), "rate \(perMinute)/min, \(amount)")
                XCTAssertTrue(bucket.tryTake(amount, now: at(5) + wait), "rate \(perMinute)/min, \(amount)")
            }
        }
    }

    func testTimeUntilAvailableIsZeroWhenThereIsRoom() {
        let bucket = TokenBucket(capacity: 10, refillPerSecond: 1, now: at(0))
        XCTAssertEqual(bucket.timeUntilAvailable(10, now: at(0)), .zero)
        XCTAssertEqual(bucket.timeUntilAvailable(0, now: at(0)), .zero)
    }

    func testAnAmountAboveCapacityNeedsAFullBucketAndLeavesADebt() {
        var bucket = TokenBucket(capacity: 100, refillPerSecond: 10, now: at(0))
        XCTAssertTrue(bucket.tryTake(1, now: at(0)))
        XCTAssertEqual(bucket.timeUntilAvailable(150, now: at(0)), .milliseconds(100), "needs the bucket full, not 150")
        XCTAssertFalse(bucket.tryTake(150, now: at(0)))
        XCTAssertTrue(bucket.tryTake(150, now: at(0.1)))
        XCTAssertEqual(bucket.balance(now: at(0.1)), -50, accuracy: 1e-9)
        XCTAssertEqual(bucket.timeUntilAvailable(1, now: at(0.1)), .milliseconds(5100))
    }

    func testSettlementChargesTheShortfallAndGivesBackTheRest() {
        var bucket = TokenBucket(capacity: 1000, refillPerSecond: 0.001, now: at(0))
        XCTAssertTrue(bucket.tryTake(100, now: at(0)))
        bucket.settle(reserved: 100, actual: 300, now: at(0))
        XCTAssertEqual(bucket.remaining(now: at(0)), 700)
        bucket.settle(reserved: 300, actual: 50, now: at(0))
        XCTAssertEqual(bucket.remaining(now: at(0)), 950)
        bucket.giveBack(500, now: at(0))
        XCTAssertEqual(bucket.remaining(now: at(0)), 1000, "giving back never overfills")
    }

    func testUnderEstimateLeavesANegativeBalanceThatRefillPaysOff() {
        var bucket = TokenBucket(capacity: 100, refillPerSecond: 100.0 / 60, now: at(0))
        XCTAssertTrue(bucket.tryTake(100, now: at(0)))
        bucket.settle(reserved: 100, actual: 150, now: at(0))
        XCTAssertEqual(bucket.balance(now: at(0)), -50, accuracy: 1e-9)
        XCTAssertEqual(bucket.remaining(now: at(0)), 0)
        XCTAssertEqual(bucket.timeUntilAvailable(10, now: at(0)), .seconds(36))
        XCTAssertEqual(bucket.timeUntilFull(now: at(0)), .seconds(90))
        XCTAssertFalse(bucket.tryTake(10, now: at(35)))
        XCTAssertTrue(bucket.tryTake(10, now: at(36)))
    }

    func testDebtNeverGoesBelowOneFullBucket() {
        var bucket = TokenBucket(capacity: 100, refillPerSecond: 100.0 / 60, now: at(0))
        XCTAssertTrue(bucket.tryTake(100, now: at(0)))
        bucket.settle(reserved: 100, actual: Int.max, now: at(0))
        XCTAssertEqual(bucket.balance(now: at(0)), -100, accuracy: 1e-9, "one settlement, however large, owes one bucket")
        bucket.settle(reserved: 0, actual: 1_000_000, now: at(0))
        XCTAssertEqual(bucket.balance(now: at(0)), -100, accuracy: 1e-9)
        XCTAssertEqual(bucket.timeUntilFull(now: at(0)), .seconds(120), "full again after two refills at most")
    }

    func testTimeUntilFullAndFullAt() {
        var bucket = TokenBucket(capacity: 60, refillPerSecond: 1, now: at(10))
        XCTAssertEqual(bucket.timeUntilFull(now: at(10)), .zero)
        XCTAssertEqual(bucket.fullAt, at(10))
        bucket.charge(30, now: at(20))
        XCTAssertEqual(bucket.timeUntilFull(now: at(20)), .seconds(30))
        XCTAssertEqual(bucket.timeUntilFull(now: at(35)), .seconds(15))
        XCTAssertEqual(bucket.fullAt, at(50))
    }

    func testReconfigureKeepsTheBalanceClampedToTheNewCapacity() {
        var bucket = TokenBucket(capacity: 10, refillPerSecond: 0.01, now: at(0))
        XCTAssertTrue(bucket.tryTake(4, now: at(0)))
        bucket.reconfigure(capacity: 20, refillPerSecond: 0.01, now: at(0))
        XCTAssertEqual(bucket.remaining(now: at(0)), 6, "a larger capacity does not refill the bucket")
        XCTAssertEqual(bucket.capacity, 20)
        bucket.reconfigure(capacity: 3, refillPerSecond: 0.01, now: at(0))
        XCTAssertEqual(bucket.remaining(now: at(0)), 3)
    }

    func testReconfigureRefillsAtTheOldRateUntilTheChange() {
        var bucket = TokenBucket(capacity: 100, refillPerSecond: 1, now: at(0))
        XCTAssertTrue(bucket.tryTake(100, now: at(0)))
        bucket.reconfigure(capacity: 100, refillPerSecond: 10, now: at(5))
        XCTAssertEqual(bucket.balance(now: at(5)), 5, accuracy: 1e-9)
        XCTAssertEqual(bucket.balance(now: at(6)), 15, accuracy: 1e-9)
    }

    func testAnEarlierReadingCountsAsNoTimePassing() {
        var bucket = TokenBucket(capacity: 10, refillPerSecond: 1, now: at(100))
        XCTAssertTrue(bucket.tryTake(10, now: at(100)))
        XCTAssertEqual(bucket.balance(now: at(50)), 0)
        XCTAssertFalse(bucket.tryTake(1, now: at(50)))
        XCTAssertTrue(bucket.tryTake(1, now: at(101)))
    }

    func testNegativeAndNonFiniteParametersAreTakenAsZero() {
        var bucket = TokenBucket(capacity: -5, refillPerSecond: .nan, now: at(0))
        XCTAssertEqual(bucket.capacity, 0)
        XCTAssertEqual(bucket.refillPerSecond, 0)
        bucket.charge(1, now: at(0))
        XCTAssertGreaterThan(bucket.timeUntilAvailable(1, now: at(0)), .seconds(1_000_000_000), "a bucket that never refills")
        bucket.charge(-7, now: at(0))
        XCTAssertEqual(bucket.balance(now: at(0)), -1, "negative amounts take nothing")
    }
}
