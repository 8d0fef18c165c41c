import GRDB
import SluiceCore
@testable import SluiceStore
import XCTest

final class CacheStoreTests: XCTestCase {
    private var scratch: ScratchFolder!
    private var database: SluiceDatabase!
    private var cache: CacheStore!

    override func setUpWithError() throws {
        scratch = try ScratchFolder()
        database = try SluiceDatabase.open(path: scratch.file("sluice.db"))
        cache = CacheStore(database: database)
    }

    override func tearDown() {
        cache = nil
        database = nil
        scratch = nil
    }

    private func entry(
        _ key: String, model: String? = "openai/gpt-4o-mini", bytes: Int = 100,
        createdAt: Double = 1_000, ttl: Double = 3_600, usage: TokenUsage? = nil
    ) -> CachedResponse {
        CachedResponse(
            key: key, keyID: "web", model: model, route: "/v1/chat/completions", status: 200,
            contentType: "application/json", body: [UInt8](repeating: UInt8(key.utf8.count % 256), count: bytes),
            createdAt: createdAt, expiresAt: createdAt + ttl, usage: usage)
    }

    func testStoredEntryReadsBackEqual() throws {
        let stored = entry("aa", usage: TokenUsage(promptTokens: 12, completionTokens: 30, totalTokens: 42, cost: 0.00125))
        try cache.store(stored)
        XCTAssertEqual(try cache.entry(forKey: "aa"), stored)
        XCTAssertNil(try cache.entry(forKey: "bb"))
    }

    func testEntryWithoutUsageOrModelRoundTrips() throws {
        let stored = entry("aa", model: nil, bytes: 0)
        try cache.store(stored)
        XCTAssertEqual(try cache.entry(forKey: "aa"), stored)
    }

    func testStoringAgainReplacesTheEntryAndKeepsTheTotalRight() throws {
        try cache.store(entry("aa", bytes: 100))
        let replacement = entry("aa", bytes: 40, createdAt: 2_000)
        try cache.store(replacement)
        XCTAssertEqual(try cache.entry(forKey: "aa"), replacement)
        let statistics = try cache.statistics()
        XCTAssertEqual(statistics.entries, 1)
        XCTAssertEqual(statistics.bodyBytes, 40)
    }

    func testEntriesSurviveReopening() throws {
        let stored = entry("aa")
        try cache.store(stored)
        let path = database.path
        cache = nil
        database = nil
        let reopened = CacheStore(database: try SluiceDatabase.open(path: path))
        XCTAssertEqual(try reopened.entry(forKey: "aa"), stored)
    }

    func testExpiredEntriesAreDeleted() throws {
        try cache.store(entry("old", createdAt: 1_000, ttl: 60))
        try cache.store(entry("fresh", createdAt: 1_000, ttl: 600))
        XCTAssertFalse(try XCTUnwrap(cache.entry(forKey: "old")).isFresh(at: 1_060))
        XCTAssertTrue(try XCTUnwrap(cache.entry(forKey: "fresh")).isFresh(at: 1_060))

        XCTAssertEqual(try cache.deleteExpired(now: 1_060), 1)
        XCTAssertNil(try cache.entry(forKey: "old"))
        XCTAssertNotNil(try cache.entry(forKey: "fresh"))
        XCTAssertEqual(try cache.deleteExpired(now: 1_060), 0)
    }

    func testEvictionRemovesLeastRecentlyUsedUntilUnderTheCap() throws {
        for (index, key) in ["a", "b", "c", "d"].enumerated() {
            try cache.store(entry(key, bytes: 100, createdAt: 1_000 + Double(index)))
        }
        // "a" is used again later than the others: "b" and "c" are now the oldest.
        try cache.recordHits([(key: "a", count: 2, lastUsedAt: 5_000)])

        XCTAssertEqual(try cache.evictLeastRecentlyUsed(toFit: 250), 2)
        XCTAssertNotNil(try cache.entry(forKey: "a"))
        XCTAssertNil(try cache.entry(forKey: "b"))
        XCTAssertNil(try cache.entry(forKey: "c"))
        XCTAssertNotNil(try cache.entry(forKey: "d"))
        XCTAssertEqual(try cache.statistics().bodyBytes, 200)

        XCTAssertEqual(try cache.evictLeastRecentlyUsed(toFit: 200), 0, "already under the cap")
        XCTAssertEqual(try cache.evictLeastRecentlyUsed(toFit: 0), 2)
        XCTAssertEqual(try cache.statistics().entries, 0)
    }

    func testHitsAreCountedAndLastUseNeverMovesBack() throws {
        try cache.store(entry("a", createdAt: 1_000))
        try cache.store(entry("b", createdAt: 1_001))
        try cache.recordHits([(key: "a", count: 3, lastUsedAt: 2_000), (key: "gone", count: 1, lastUsedAt: 2_000)])
        try cache.recordHits([(key: "a", count: 1, lastUsedAt: 1_500)])
        let row = try database.pool.read {
            try Row.fetchOne($0, sql: "SELECT hit_count, last_used_at FROM cache_entries WHERE key = 'a'")
        }
        XCTAssertEqual(row?[0] as Int?, 4)
        XCTAssertEqual(row?[1] as Double?, 2_000)
        XCTAssertEqual(try cache.statistics().totalHits, 4)
    }

    func testPurgeByModelByAgeAndAll() throws {
        try cache.store(entry("a", model: "m1", createdAt: 1_000))
        try cache.store(entry("b", model: "m1", createdAt: 5_000))
        try cache.store(entry("c", model: "m2", createdAt: 1_000))
        try cache.store(entry("d", model: "m2", createdAt: 5_000))

        XCTAssertEqual(try cache.purge(model: "m1", olderThan: 2_000, all: false), 1)
        XCTAssertNil(try cache.entry(forKey: "a"))
        XCTAssertEqual(try cache.purge(model: nil, olderThan: 2_000, all: false), 1)
        XCTAssertNil(try cache.entry(forKey: "c"))
        XCTAssertEqual(try cache.purge(model: "m2", olderThan: nil, all: false), 1)
        XCTAssertNil(try cache.entry(forKey: "d"))
        XCTAssertEqual(try cache.purge(model: nil, olderThan: nil, all: true), 1)
        XCTAssertEqual(try cache.statistics().entries, 0)
        XCTAssertEqual(try cache.statistics().bodyBytes, 0)
    }

    func testPurgeWithoutFilterOrAllIsRefused() throws {
        try cache.store(entry("a"))
        let error = assertStoreError(try cache.purge(model: nil, olderThan: nil, all: false))
        XCTAssertTrue(error?.description.contains("--all") == true)
        XCTAssertNotNil(try cache.entry(forKey: "a"))
    }

    func testCorruptRowIsAMissAndIsDeleted() throws {
        try cache.store(entry("text-body"))
        try cache.store(entry("wrong-size"))
        try cache.store(entry("bad-status"))
        try database.pool.write { db in
            try db.execute(sql: "UPDATE cache_entries SET body = 'not a blob' WHERE key = 'text-body'")
            try db.execute(sql: "UPDATE cache_entries SET body = x'00' WHERE key = 'wrong-size'")
            try db.execute(sql: "UPDATE cache_entries SET status = 'OK' WHERE key = 'bad-status'")
        }
        for key in ["text-body", "wrong-size", "bad-status"] {
            XCTAssertNil(try cache.entry(forKey: key), key)
            let remaining = try database.pool.read {
                try Int.fetchOne($0, sql: "SELECT count(*) FROM cache_entries WHERE key = ?", arguments: [key])
            }
            XCTAssertEqual(remaining, 0, key)
        }
    }

    func testStatisticsPerModel() throws {
        XCTAssertEqual(try cache.statistics(), CacheStatistics(
            entries: 0, bodyBytes: 0, totalHits: 0, oldestCreatedAt: nil, newestCreatedAt: nil, models: []))
        try cache.store(entry("a", model: "m1", bytes: 10, createdAt: 1_000))
        try cache.store(entry("b", model: "m1", bytes: 20, createdAt: 3_000))
        try cache.store(entry("c", model: nil, bytes: 5, createdAt: 2_000))
        try cache.recordHits([(key: "a", count: 2, lastUsedAt: 4_000), (key: "c", count: 1, lastUsedAt: 4_000)])

        XCTAssertEqual(try cache.statistics(), CacheStatistics(
            entries: 3, bodyBytes: 35, totalHits: 3, oldestCreatedAt: 1_000, newestCreatedAt: 3_000,
            models: [
                .init(model: "m1", entries: 2, bodyBytes: 30, hits: 2),
                .init(model: nil, entries: 1, bodyBytes: 5, hits: 1),
            ]))
    }
}
