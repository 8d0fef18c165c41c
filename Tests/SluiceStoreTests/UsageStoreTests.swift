import GRDB
import SluiceCore
@testable import SluiceStore
import XCTest

final class UsageStoreTests: XCTestCase {
    func testInsertStoresEveryField() throws {
        let scratch = try ScratchFolder()
        let database = try SluiceDatabase.open(path: scratch.file("sluice.db"))
        let record = UsageRecord(
            timestamp: 1_790_000_000.25, keyID: "web", model: "openai/gpt-5", route: "/v1/chat/completions",
            streaming: true, status: 200, cacheOutcome: .hit,
            usage: TokenUsage(promptTokens: 1, completionTokens: 2, totalTokens: 3, cost: 0.5),
            saved: TokenUsage(promptTokens: 10, completionTokens: 20, totalTokens: 30, cost: 0.25),
            firstByteLatencyMs: 12.5, latencyMs: 40, upstreamLatencyMs: 30, requestBytes: 123,
            responseBytes: 456, errorCode: "none_really")
        try UsageStore(database: database).insert([record])

        let row = try XCTUnwrap(database.pool.read { try Row.fetchOne($0, sql: "SELECT * FROM usage") })
        XCTAssertEqual(row["timestamp"] as Double, 1_790_000_000.25)
        XCTAssertEqual(row["key_id"] as String, "web")
        XCTAssertEqual(row["model"] as String, "openai/gpt-5")
        XCTAssertEqual(row["streaming"] as Bool, true)
        XCTAssertEqual(row["cache_outcome"] as String, "hit")
        XCTAssertEqual(row["total_tokens"] as Int, 3)
        XCTAssertEqual(row["cost"] as Double, 0.5)
        XCTAssertEqual(row["saved_prompt_tokens"] as Int, 10)
        XCTAssertEqual(row["saved_completion_tokens"] as Int, 20)
        XCTAssertEqual(row["saved_total_tokens"] as Int, 30)
        XCTAssertEqual(row["saved_cost"] as Double, 0.25)
        XCTAssertEqual(row["first_byte_latency_ms"] as Double, 12.5)
        XCTAssertEqual(row["upstream_latency_ms"] as Double, 30)
        XCTAssertEqual(row["response_bytes"] as Int, 456)
        XCTAssertEqual(row["error_code"] as String, "none_really")
    }

    func testMissingValuesAreStoredAsNull() throws {
        let scratch = try ScratchFolder()
        let database = try SluiceDatabase.open(path: scratch.file("sluice.db"))
        try UsageStore(database: database).insert([UsageRows.make(at: 5, model: nil, status: 401, outcome: .none)])
        let row = try XCTUnwrap(database.pool.read { try Row.fetchOne($0, sql: "SELECT * FROM usage") })
        XCTAssertTrue(row["model"] == nil as String?)
        XCTAssertTrue(row["prompt_tokens"] == nil as Int?)
        XCTAssertTrue(row["saved_cost"] == nil as Double?)
    }

    func testPruneDeletesOnlyOlderRows() throws {
        let scratch = try ScratchFolder()
        let database = try SluiceDatabase.open(path: scratch.file("sluice.db"))
        let usage = UsageStore(database: database)
        try usage.insert((0..<10).map { UsageRows.make(at: Double($0) * 100) })
        XCTAssertEqual(try usage.prune(olderThan: 500), 5)
        XCTAssertEqual(try usage.prune(olderThan: 500), 0)
        let remaining = try database.pool.read { try Double.fetchAll($0, sql: "SELECT timestamp FROM usage ORDER BY timestamp") }
        XCTAssertEqual(remaining, [500, 600, 700, 800, 900])
    }

    func testEmptyBatchIsANoOp() throws {
        let scratch = try ScratchFolder()
        let database = try SluiceDatabase.open(path: scratch.file("sluice.db"))
        try UsageStore(database: database).insert([])
        XCTAssertEqual(try database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM usage") }, 0)
    }
}

final class UsageStoreSpendTests: XCTestCase {
    func testSpendByKeySumsReportedCostSinceATime() throws {
        let scratch = try ScratchFolder()
        let database = try SluiceDatabase.open(path: scratch.file("sluice.db"))
        let store = UsageStore(database: database)
        let cost = { (usd: Double?) in TokenUsage(promptTokens: 1, completionTokens: 1, totalTokens: 2, cost: usd) }
        try store.insert([
            UsageRows.make(at: 99, key: "web", usage: cost(100)),  // before the window
            UsageRows.make(at: 100, key: "web", usage: cost(1.5)),
            UsageRows.make(at: 150, key: "web", usage: cost(0.25)),
            UsageRows.make(at: 160, key: "web", usage: cost(nil)),  // no cost reported
            UsageRows.make(at: 170, key: "web", outcome: .hit, saved: cost(9)),  // a hit saved, not spent
            UsageRows.make(at: 120, key: "batch", usage: cost(2)),
            UsageRows.make(at: 130, key: "idle", status: 429, outcome: .none),
        ])
        XCTAssertEqual(try store.spendByKey(since: 100), ["web": 1.75, "batch": 2])
        XCTAssertEqual(try store.spendByKey(since: 140), ["web": 0.25])
        XCTAssertEqual(try store.spendByKey(since: 1000), [:])
    }
}
