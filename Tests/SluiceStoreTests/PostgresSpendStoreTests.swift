import PostgresNIO
import SluiceCore
@testable import SluiceStore
import XCTest

final class PostgresSpendStoreTests: PostgresTestCase, @unchecked Sendable {
    /// 2026-11-26T05:00:00Z; that month began 2026-11-01.
    private let now = 1_795_669_200.0
    private let day = 86_400.0

    func testSpendAddsUpPerKeyInTheDayAndTheMonth() async throws {
        let now = self.now, day = self.day
        try await withFreshDatabase { database in
            let spend: any SpendStorage = PostgresSpendStore(database: database)
            try await spend.addSpend([
                SpendAmount(keyID: "web", usd: 1.5, time: now),
                SpendAmount(keyID: "web", usd: 0.25, time: now + 60),
                SpendAmount(keyID: "web", usd: 2, time: now - day),  // yesterday: this month only
                SpendAmount(keyID: "batch", usd: 4, time: now),
            ])
            try await spend.addSpend([SpendAmount(keyID: "web", usd: 0.25, time: now + 120)])
            try await spend.addSpend([])
            let web = try await spend.spend(forKey: "web", at: now)
            XCTAssertEqual(web, SpendTotals(day: 2, month: 4))
            let yesterday = try await spend.spend(forKey: "web", at: now - day)
            XCTAssertEqual(yesterday, SpendTotals(day: 2, month: 4))
            let nobody = try await spend.spend(forKey: "nobody", at: now)
            XCTAssertEqual(nobody, SpendTotals(day: 0, month: 0))
            let everyKey = try await spend.spendOfEveryKey(at: now)
            XCTAssertEqual(everyKey, ["web": SpendTotals(day: 2, month: 4), "batch": SpendTotals(day: 4, month: 4)])
        }
    }

    func testWindowsRollOverAtUTCMidnightAndOnTheFirst() async throws {
        let nextMonth = SpendLedger.end(of: .month, at: now)
        let midnight = SpendLedger.end(of: .day, at: now)
        try await withFreshDatabase { database in
            let spend = PostgresSpendStore(database: database)
            try await spend.addSpend([
                SpendAmount(keyID: "web", usd: 1, time: midnight - 1),
                SpendAmount(keyID: "web", usd: 2, time: midnight),
                SpendAmount(keyID: "web", usd: 4, time: nextMonth),
            ])
            let beforeMidnight = try await spend.spend(forKey: "web", at: midnight - 1)
            XCTAssertEqual(beforeMidnight, SpendTotals(day: 1, month: 3))
            let afterMidnight = try await spend.spend(forKey: "web", at: midnight)
            XCTAssertEqual(afterMidnight, SpendTotals(day: 2, month: 3))
            let firstOfNextMonth = try await spend.spend(forKey: "web", at: nextMonth + 10)
            XCTAssertEqual(firstOfNextMonth, SpendTotals(day: 4, month: 4))
            let everyKeyLater = try await spend.spendOfEveryKey(at: nextMonth + 40 * 86_400)
            XCTAssertEqual(everyKeyLater, [:])
        }
    }

    func testWhatOneDaemonAddsEveryOtherReads() async throws {
        let url = try freshDatabaseURL()
        let now = self.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for daemon in 0..<3 {
                group.addTask {
                    try await self.withDatabase(url) { database in
                        let spend = PostgresSpendStore(database: database)
                        for index in 0..<20 {
                            try await spend.addSpend([SpendAmount(keyID: "shared", usd: 0.5, time: now + Double(daemon * 100 + index))])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let total = try await withDatabase(url) { try await PostgresSpendStore(database: $0).spend(forKey: "shared", at: now) }
        XCTAssertEqual(total, SpendTotals(day: 30, month: 30))
    }
}
