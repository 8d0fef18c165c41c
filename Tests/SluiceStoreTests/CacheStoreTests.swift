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

    /// The hex cache key the tests call `name`.
    private func hex(_ name: String) -> String {
        CacheKey(route: "/test", scope: nil, canonicalBody: Array(name.utf8)).hex
    }

    private func entry(
        _ name: String, model: String? = "openai/gpt-4o-mini", bytes: Int = 100,
        createdAt: Double = 1_000, ttl: Double = 3_600, usage: TokenUsage? = nil
    ) -> CachedResponse {
        CachedResponse(
            key: hex(name), keyID: "web", model: model, route: "/v1/chat/completions", status: 200,
            contentType: "application/json", body: [UInt8](repeating: UInt8(name.utf8.count % 256), count: bytes),
            createdAt: createdAt, expiresAt: createdAt + ttl, usage: usage)
    }

    private func tally(_ count: Int, at time: Double) -> CacheHitTally {
        CacheHitTally(count: count, lastUsedAt: time)
    }

    private func usageRow(_ key: String) throws -> Row? {
        try database.pool.read {
            try Row.fetchOne($0, sql: """
                SELECT u.hit_count, u.last_used_at, u.body_bytes
                FROM cache_usage u JOIN cache_entries e ON e.id = u.entry_id WHERE e.key = ?
                """, arguments: [hex(key)])
        }
    }

    func testStoredEntryReadsBackEqual() throws {
        let stored = entry("aa", usage: TokenUsage(promptTokens: 12, completionTokens: 30, totalTokens: 42, cost: 0.00125))
        try cache.store(stored)
        XCTAssertEqual(try cache.entry(forKey: hex("aa")), stored)
        XCTAssertNil(try cache.entry(forKey: hex("bb")))
    }

    func testEntryWithoutUsageOrModelRoundTrips() throws {
        let stored = entry("aa", model: nil, bytes: 0)
        try cache.store(stored)
        XCTAssertEqual(try cache.entry(forKey: hex("aa")), stored)
    }

    func testStoringAgainReplacesTheEntryAndKeepsTheTotalRight() throws {
        try cache.store(entry("aa", bytes: 100))
        try cache.recordHits([hex("aa"): tally(3, at: 1_500)])
        let replacement = entry("aa", bytes: 40, createdAt: 2_000)
        try cache.store(replacement)
        XCTAssertEqual(try cache.entry(forKey: hex("aa")), replacement)
        let statistics = try cache.statistics()
        XCTAssertEqual(statistics.entries, 1)
        XCTAssertEqual(statistics.bodyBytes, 40)
        XCTAssertEqual(statistics.totalHits, 3, "replacing keeps the hit count")
        let usage = try XCTUnwrap(usageRow("aa"))
        XCTAssertEqual(usage[1] as Double, 2_000, "a replaced entry counts as just used")
        XCTAssertEqual(usage[2] as Int, 40)
    }

    func testEachEntryHasOneUsageRowForItsLifetime() throws {
        try cache.store(entry("a"))
        try cache.store(entry("b"))
        XCTAssertEqual(try database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM cache_usage") }, 2)
        XCTAssertEqual(try cache.purge(model: nil, olderThan: nil, all: true), 2)
        XCTAssertEqual(try database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM cache_usage") }, 0)
    }

    func testEntriesSurviveReopening() throws {
        let stored = entry("aa")
        try cache.store(stored)
        let path = database.path
        cache = nil
        database = nil
        let reopened = CacheStore(database: try SluiceDatabase.open(path: path))
        XCTAssertEqual(try reopened.entry(forKey: hex("aa")), stored)
    }

    func testExpiredEntriesAreDeleted() throws {
        try cache.store(entry("old", createdAt: 1_000, ttl: 60))
        try cache.store(entry("fresh", createdAt: 1_000, ttl: 600))
        XCTAssertFalse(try XCTUnwrap(cache.entry(forKey: hex("old"))).isFresh(at: 1_060))
        XCTAssertTrue(try XCTUnwrap(cache.entry(forKey: hex("fresh"))).isFresh(at: 1_060))

        XCTAssertEqual(try cache.deleteExpired(now: 1_060), 1)
        XCTAssertNil(try cache.entry(forKey: hex("old")))
        XCTAssertNotNil(try cache.entry(forKey: hex("fresh")))
        XCTAssertEqual(try cache.deleteExpired(now: 1_060), 0)
    }

    func testEvictionRemovesLeastRecentlyUsedUntilUnderTheCap() throws {
        for (index, key) in ["a", "b", "c", "d"].enumerated() {
            try cache.store(entry(key, bytes: 100, createdAt: 1_000 + Double(index)))
        }
        // "a" is used again later than the others: "b" and "c" are now the oldest.
        try cache.recordHits([hex("a"): tally(2, at: 5_000)])

        XCTAssertEqual(try cache.evictLeastRecentlyUsed(toFit: 250), 2)
        XCTAssertNotNil(try cache.entry(forKey: hex("a")))
        XCTAssertNil(try cache.entry(forKey: hex("b")))
        XCTAssertNil(try cache.entry(forKey: hex("c")))
        XCTAssertNotNil(try cache.entry(forKey: hex("d")))
        XCTAssertEqual(try cache.statistics().bodyBytes, 200)

        XCTAssertEqual(try cache.evictLeastRecentlyUsed(toFit: 200), 0, "already under the cap")
        XCTAssertEqual(try cache.evictLeastRecentlyUsed(toFit: 0), 2)
        XCTAssertEqual(try cache.statistics().entries, 0)
    }

    func testEvictionPastTheLimitGoesDownToTheTarget() throws {
        for (index, key) in ["a", "b", "c", "d", "e"].enumerated() {
            try cache.store(entry(key, bytes: 100, createdAt: 1_000 + Double(index)))
        }
        XCTAssertEqual(try cache.evictLeastRecentlyUsed(whenOver: 500, downTo: 300), 0, "at the limit, not over it")
        try cache.store(entry("f", bytes: 100, createdAt: 2_000))
        XCTAssertEqual(try cache.evictLeastRecentlyUsed(whenOver: 500, downTo: 300), 3)
        XCTAssertEqual(try cache.statistics().bodyBytes, 300)
        XCTAssertNil(try cache.entry(forKey: hex("c")))
        XCTAssertNotNil(try cache.entry(forKey: hex("d")))
    }

    func testHitsAreCountedAndLastUseNeverMovesBack() throws {
        try cache.store(entry("a", createdAt: 1_000))
        try cache.store(entry("b", createdAt: 1_001))
        try cache.recordHits([hex("a"): tally(3, at: 2_000), hex("gone"): tally(1, at: 2_000), "not hex": tally(1, at: 2_000)])
        try cache.recordHits([hex("a"): tally(1, at: 1_500)])
        try cache.recordHits([hex("b"): tally(3, at: 3_000)])
        let usageOfA = try XCTUnwrap(usageRow("a"))
        XCTAssertEqual(usageOfA[0] as Int, 4)
        XCTAssertEqual(usageOfA[1] as Double, 2_000)
        let usageOfB = try XCTUnwrap(usageRow("b"))
        XCTAssertEqual(usageOfB[0] as Int, 3)
        XCTAssertEqual(usageOfB[1] as Double, 3_000)
        XCTAssertEqual(try cache.statistics().totalHits, 7)
    }

    func testPurgeByModelByAgeAndAll() throws {
        try cache.store(entry("a", model: "m1", createdAt: 1_000))
        try cache.store(entry("b", model: "m1", createdAt: 5_000))
        try cache.store(entry("c", model: "m2", createdAt: 1_000))
        try cache.store(entry("d", model: "m2", createdAt: 5_000))

        XCTAssertEqual(try cache.purge(model: "m1", olderThan: 2_000, all: false), 1)
        XCTAssertNil(try cache.entry(forKey: hex("a")))
        XCTAssertEqual(try cache.purge(model: nil, olderThan: 2_000, all: false), 1)
        XCTAssertNil(try cache.entry(forKey: hex("c")))
        XCTAssertEqual(try cache.purge(model: "m2", olderThan: nil, all: false), 1)
        XCTAssertNil(try cache.entry(forKey: hex("d")))
        XCTAssertEqual(try cache.purge(model: nil, olderThan: nil, all: true), 1)
        XCTAssertEqual(try cache.statistics().entries, 0)
        XCTAssertEqual(try cache.statistics().bodyBytes, 0)
    }

    func testPurgeWithoutFilterOrAllIsRefused() throws {
        try cache.store(entry("a"))
        let error = assertStoreError(try cache.purge(model: nil, olderThan: nil, all: false))
        XCTAssertTrue(error?.description.contains("--all") == true)
        XCTAssertNotNil(try cache.entry(forKey: hex("a")))
    }

    func testCorruptRowIsAMissAndIsDeleted() throws {
        try cache.store(entry("text-body"))
        try cache.store(entry("wrong-size"))
        try cache.store(entry("bad-status"))
        try database.pool.write { db in
            try db.execute(sql: "UPDATE cache_entries SET body = 'not a blob' WHERE key = ?", arguments: [hex("text-body")])
            try db.execute(sql: "UPDATE cache_entries SET body = x'00' WHERE key = ?", arguments: [hex("wrong-size")])
            try db.execute(sql: "UPDATE cache_entries SET status = 'OK' WHERE key = ?", arguments: [hex("bad-status")])
        }
        for key in ["text-body", "wrong-size", "bad-status"] {
            XCTAssertNil(try cache.entry(forKey: hex(key)), key)
            let remaining = try database.pool.read {
                try Int.fetchOne($0, sql: "SELECT count(*) FROM cache_entries WHERE key = ?", arguments: [hex(key)])
            }
            XCTAssertEqual(remaining, 0, key)
        }
    }

    func testLookupsSeeTheStoresOwnWritesAtOnce() throws {
        // The first lookup opens a read snapshot; each write through the store ends it.
        XCTAssertNil(try cache.entry(forKey: hex("a")))
        try cache.store(entry("a"))
        XCTAssertNotNil(try cache.entry(forKey: hex("a")))
        XCTAssertEqual(try cache.purge(model: nil, olderThan: nil, all: true), 1)
        XCTAssertNil(try cache.entry(forKey: hex("a")))
        try cache.store(entry("b", createdAt: 1_000, ttl: 10))
        XCTAssertNotNil(try cache.entry(forKey: hex("b")))
        XCTAssertEqual(try cache.deleteExpired(now: 2_000), 1)
        XCTAssertNil(try cache.entry(forKey: hex("b")))
        try cache.store(entry("c", bytes: 100))
        XCTAssertNotNil(try cache.entry(forKey: hex("c")))
        XCTAssertEqual(try cache.evictLeastRecentlyUsed(toFit: 10), 1)
        XCTAssertNil(try cache.entry(forKey: hex("c")))
    }

    func testOutsideWriteIsSeenAfterRefresh() throws {
        try cache.store(entry("a"))
        XCTAssertNotNil(try cache.entry(forKey: hex("a")))
        // Another connection deletes it, as `sluice cache purge` would from its own process.
        try database.pool.write { try $0.execute(sql: "DELETE FROM cache_entries") }
        XCTAssertNotNil(try cache.entry(forKey: hex("a")), "lookups keep their snapshot until told")
        cache.refreshAfterOutsideChange()
        XCTAssertNil(try cache.entry(forKey: hex("a")))
    }

    func testSnapshotsPastTheirAgeAreRenewed() throws {
        let cache = CacheStore(database: database, maxSnapshotAge: .milliseconds(20))
        try cache.store(entry("b"))
        XCTAssertNotNil(try cache.entry(forKey: hex("b")))
        try database.pool.write { try $0.execute(sql: "DELETE FROM cache_entries") }
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertNil(try cache.entry(forKey: hex("b")))
    }

    func testCheckpointCopiesTheWholeLogDespiteHeldSnapshots() throws {
        try cache.store(entry("a"))
        XCTAssertNotNil(try cache.entry(forKey: hex("a")))
        try database.pool.write { try $0.execute(sql: "UPDATE cache_usage SET hit_count = 7") }
        XCTAssertEqual(try checkpointIsBlocked(), true, "the idle reader's snapshot pins the WAL")
        XCTAssertTrue(try cache.checkpoint())
        XCTAssertEqual(try checkpointIsBlocked(), false)
        // Lookups take snapshots again afterwards, and see everything committed.
        try database.pool.write { try $0.execute(sql: "DELETE FROM cache_entries") }
        cache.refreshAfterOutsideChange()
        XCTAssertNil(try cache.entry(forKey: hex("a")))
    }

    func testLogIsCutBackWhenItStartsOver() throws {
        let limit = try database.pool.write { try Int.fetchOne($0, sql: "PRAGMA journal_size_limit") }
        XCTAssertEqual(limit, 64 << 20)
    }

    /// Whether a truncating checkpoint is kept from finishing by some reader.
    private func checkpointIsBlocked() throws -> Bool? {
        try database.pool.writeWithoutTransaction { db in
            try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)").map { row in
                let logFrames: Int = row[1]
                let checkpointed: Int = row[2]
                return checkpointed < logFrames
            }
        }
    }

    func testStatisticsPerModel() throws {
        XCTAssertEqual(try cache.statistics(), CacheStatistics(
            entries: 0, bodyBytes: 0, totalHits: 0, oldestCreatedAt: nil, newestCreatedAt: nil, models: []))
        try cache.store(entry("a", model: "m1", bytes: 10, createdAt: 1_000))
        try cache.store(entry("b", model: "m1", bytes: 20, createdAt: 3_000))
        try cache.store(entry("c", model: nil, bytes: 5, createdAt: 2_000))
        try cache.recordHits([hex("a"): tally(2, at: 4_000), hex("c"): tally(1, at: 4_000)])

        XCTAssertEqual(try cache.statistics(), CacheStatistics(
            entries: 3, bodyBytes: 35, totalHits: 3, oldestCreatedAt: 1_000, newestCreatedAt: 3_000,
            models: [
                .init(model: "m1", entries: 2, bodyBytes: 30, hits: 2),
                .init(model: nil, entries: 1, bodyBytes: 5, hits: 1),
            ]))
    }

    func testEntryIDIsTheKeysFirstEightBytesSignedBigEndian() {
        XCTAssertEqual(CacheStore.entryID(forKey: "0123456789abcdef" + String(repeating: "0", count: 48)), 0x0123_4567_89ab_cdef)
        XCTAssertEqual(CacheStore.entryID(forKey: "ffffffffffffffff"), -1)
        XCTAssertEqual(CacheStore.entryID(forKey: "8000000000000001"), Int64.min + 1)
        XCTAssertNil(CacheStore.entryID(forKey: "0123456789abcde"), "too short")
        XCTAssertNil(CacheStore.entryID(forKey: "0123456789ABCDEF"), "keys are lowercase hex")
        XCTAssertNil(CacheStore.entryID(forKey: "not hex at all, no"))
    }

    func testKeysSharingAnIDNeverAnswerForEachOther() throws {
        let first = String(repeating: "a", count: 64)
        let second = String(repeating: "a", count: 16) + String(repeating: "b", count: 48)
        var entryA = entry("a")
        entryA.key = first
        var entryB = entry("b", bytes: 30)
        entryB.key = second
        try cache.store(entryA)
        XCTAssertNil(try cache.entry(forKey: second), "same id, other key: a miss")
        try cache.store(entryB)
        XCTAssertEqual(try cache.entry(forKey: second), entryB)
        XCTAssertNil(try cache.entry(forKey: first), "the later key replaced the earlier")
        XCTAssertEqual(try cache.statistics().entries, 1)
        XCTAssertEqual(try cache.statistics().bodyBytes, 30)
    }

    func testANonHexKeyIsNeverStored() throws {
        var bad = entry("a")
        bad.key = "not hex"
        XCTAssertNotNil(assertStoreError(try cache.store(bad)))
        XCTAssertNil(try cache.entry(forKey: "not hex"))
    }
}
