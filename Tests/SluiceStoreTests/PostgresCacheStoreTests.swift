import PostgresNIO
import SluiceCore
@testable import SluiceStore
import XCTest

final class PostgresCacheStoreTests: PostgresTestCase, @unchecked Sendable {
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

    /// Hit count and last use of `name`'s entry.
    private func usage(of name: String, in database: PostgreSQLDatabase) async throws -> (Int, Double)? {
        try await database.client.query(
            "SELECT hit_count, last_used_at FROM cache_entries WHERE key = \(hex(name))"
        ).collect().first?.decode((Int, Double).self)
    }

    /// The totals row matches a count over the table.
    private func assertTotalsAreExact(_ database: PostgreSQLDatabase, file: StaticString = #filePath, line: UInt = #line) async throws {
        let counted = try await database.client.query(
            "SELECT count(*), coalesce(sum(body_bytes), 0)::int8 FROM cache_entries"
        ).collect().first?.decode((Int, Int).self)
        let kept = try await PostgresCacheStore(database: database).totals()
        XCTAssertEqual(counted?.0, kept.entries, "entries", file: file, line: line)
        XCTAssertEqual(counted?.1, kept.bodyBytes, "body bytes", file: file, line: line)
    }

    func testStoredEntryReadsBackEqual() async throws {
        try await withFreshDatabase { database in
            let cache = PostgresCacheStore(database: database)
            let stored = self.entry("aa", usage: TokenUsage(promptTokens: 12, completionTokens: 30, totalTokens: 42, cost: 0.00125))
            let bare = self.entry("bb", model: nil, bytes: 0)
            try await cache.store([stored, bare])
            let readBack = try await cache.entry(forKey: self.hex("aa"))
            XCTAssertEqual(readBack, stored)
            let readBare = try await cache.entry(forKey: self.hex("bb"))
            XCTAssertEqual(readBare, bare)
            let missing = try await cache.entry(forKey: self.hex("cc"))
            XCTAssertNil(missing)
        }
    }

    func testStoringAgainReplacesTheEntryKeepsItsHitsAndCountsAsUsed() async throws {
        try await withFreshDatabase { database in
            let cache = PostgresCacheStore(database: database)
            try await cache.store([self.entry("a", bytes: 100, createdAt: 1_000)])
            try await cache.recordHits([self.hex("a"): self.tally(3, at: 1_500)])
            let replacement = self.entry("a", bytes: 40, createdAt: 2_000, ttl: 10)
            try await cache.store([replacement])
            let readBack = try await cache.entry(forKey: self.hex("a"))
            XCTAssertEqual(readBack, replacement)
            let usage = try await self.usage(of: "a", in: database)
            XCTAssertEqual(usage?.0, 3)
            XCTAssertEqual(usage?.1, 2_000)
            let totals = try await cache.totals()
            XCTAssertEqual(totals.entries, 1)
            XCTAssertEqual(totals.bodyBytes, 40)
        }
    }

    func testABatchStoresInOrderALaterAnswerForAKeyWinning() async throws {
        try await withFreshDatabase { database in
            let cache = PostgresCacheStore(database: database)
            let last = self.entry("a", bytes: 7, createdAt: 1_002)
            try await cache.store([self.entry("a", bytes: 5, createdAt: 1_000), self.entry("b"), last])
            let readBack = try await cache.entry(forKey: self.hex("a"))
            XCTAssertEqual(readBack, last)
            let totals = try await cache.totals()
            XCTAssertEqual(totals.entries, 2)
            XCTAssertEqual(totals.bodyBytes, 107)
            try await cache.store([])
        }
    }

    func testAnAnswerStoredByOneDaemonIsAHitOnAnother() async throws {
        let url = try freshDatabaseURL()
        let stored = entry("shared")
        try await withDatabase(url) { first in
            try await PostgresCacheStore(database: first).store([stored])
        }
        let seen = try await withDatabase(url) { second in
            try await PostgresCacheStore(database: second).entry(forKey: self.hex("shared"))
        }
        XCTAssertEqual(seen, stored)
    }

    func testExpiredEntriesAreDeleted() async throws {
        try await withFreshDatabase { database in
            let cache = PostgresCacheStore(database: database)
            try await cache.store([self.entry("old", createdAt: 1_000, ttl: 60), self.entry("fresh", createdAt: 1_000, ttl: 600)])
            let old = try await cache.entry(forKey: self.hex("old"))
            XCTAssertEqual(old?.isFresh(at: 1_060), false, "expired entries are returned; freshness is the caller's")
            var deleted = try await cache.deleteExpired(now: 1_060)
            XCTAssertEqual(deleted, 1)
            let oldAfter = try await cache.entry(forKey: self.hex("old"))
            XCTAssertNil(oldAfter)
            let fresh = try await cache.entry(forKey: self.hex("fresh"))
            XCTAssertNotNil(fresh)
            deleted = try await cache.deleteExpired(now: 1_060)
            XCTAssertEqual(deleted, 0)
            try await self.assertTotalsAreExact(database)
        }
    }

    func testEvictionRemovesLeastRecentlyUsedUntilUnderTheCap() async throws {
        try await withFreshDatabase { database in
            let cache = PostgresCacheStore(database: database)
            try await cache.store(["a", "b", "c", "d"].enumerated().map {
                self.entry($0.element, bytes: 100, createdAt: 1_000 + Double($0.offset))
            })
            // "a" is used again later than the others: "b" and "c" are now the oldest.
            try await cache.recordHits([self.hex("a"): self.tally(2, at: 5_000)])
            var evicted = try await cache.evictLeastRecentlyUsed(toFit: 250)
            XCTAssertEqual(evicted, 2)
            for (name, kept) in [("a", true), ("b", false), ("c", false), ("d", true)] {
                let found = try await cache.entry(forKey: self.hex(name))
                XCTAssertEqual(found != nil, kept, name)
            }
            evicted = try await cache.evictLeastRecentlyUsed(toFit: 200)
            XCTAssertEqual(evicted, 0, "already under the cap")
            evicted = try await cache.evictLeastRecentlyUsed(toFit: 0)
            XCTAssertEqual(evicted, 2)
            let totals = try await cache.totals()
            XCTAssertEqual(totals.entries, 0)
            XCTAssertEqual(totals.bodyBytes, 0)
        }
    }

    func testEvictionPastTheLimitGoesDownToTheTarget() async throws {
        try await withFreshDatabase { database in
            let cache = PostgresCacheStore(database: database)
            try await cache.store(["a", "b", "c", "d", "e"].enumerated().map {
                self.entry($0.element, bytes: 100, createdAt: 1_000 + Double($0.offset))
            })
            var evicted = try await cache.evictLeastRecentlyUsed(whenOver: 500, downTo: 300)
            XCTAssertEqual(evicted, 0, "at the limit, not over it")
            try await cache.store([self.entry("f", bytes: 100, createdAt: 2_000)])
            evicted = try await cache.evictLeastRecentlyUsed(whenOver: 500, downTo: 300)
            XCTAssertEqual(evicted, 3)
            let totals = try await cache.totals()
            XCTAssertEqual(totals.bodyBytes, 300)
            let c = try await cache.entry(forKey: self.hex("c"))
            XCTAssertNil(c)
            let d = try await cache.entry(forKey: self.hex("d"))
            XCTAssertNotNil(d)
        }
    }

    func testDaemonsEvictingAtOnceEvictOnlyWhatIsNeeded() async throws {
        let url = try freshDatabaseURL()
        try await withDatabase(url) { database in
            try await PostgresCacheStore(database: database).store((0..<40).map {
                self.entry("e\($0)", bytes: 100, createdAt: 1_000 + Double($0))
            })
        }
        let evicted = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await self.withDatabase(url) { database in
                        try await PostgresCacheStore(database: database).evictLeastRecentlyUsed(toFit: 2_500)
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        XCTAssertEqual(evicted, 15)
        try await withDatabase(url) { database in
            let totals = try await PostgresCacheStore(database: database).totals()
            XCTAssertEqual(totals.bodyBytes, 2_500)
            try await self.assertTotalsAreExact(database)
        }
    }

    func testHitsAreCountedAndLastUseNeverMovesBack() async throws {
        try await withFreshDatabase { database in
            let cache = PostgresCacheStore(database: database)
            try await cache.store([self.entry("a", createdAt: 1_000), self.entry("b", createdAt: 1_001)])
            try await cache.recordHits([
                self.hex("a"): self.tally(3, at: 2_000), self.hex("gone"): self.tally(1, at: 2_000),
                "not hex": self.tally(1, at: 2_000),
            ])
            try await cache.recordHits([self.hex("a"): self.tally(1, at: 1_500)])
            try await cache.recordHits([self.hex("b"): self.tally(3, at: 3_000)])
            try await cache.recordHits([:])
            let a = try await self.usage(of: "a", in: database)
            XCTAssertEqual(a?.0, 4)
            XCTAssertEqual(a?.1, 2_000)
            let b = try await self.usage(of: "b", in: database)
            XCTAssertEqual(b?.0, 3)
            XCTAssertEqual(b?.1, 3_000)
            let statistics = try await cache.statistics()
            XCTAssertEqual(statistics.totalHits, 7)
        }
    }

    func testHitsRecordedByManyDaemonsAtOnceAllCount() async throws {
        let url = try freshDatabaseURL()
        let names = (0..<20).map { "k\($0)" }
        try await withDatabase(url) { database in
            try await PostgresCacheStore(database: database).store(names.map { self.entry($0) })
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for daemon in 0..<3 {
                group.addTask {
                    try await self.withDatabase(url) { database in
                        let cache = PostgresCacheStore(database: database)
                        for round in 0..<10 {
                            // Overlapping keys in different orders.
                            let keys = daemon % 2 == 0 ? names : names.reversed()
                            try await cache.recordHits(Dictionary(uniqueKeysWithValues: keys.map {
                                (self.hex($0), self.tally(1, at: 2_000 + Double(round)))
                            }))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let hits = try await withDatabase(url) { try await PostgresCacheStore(database: $0).statistics().totalHits }
        XCTAssertEqual(hits, 3 * 10 * names.count)
    }

    func testPurgeByModelByAgeAndAll() async throws {
        try await withFreshDatabase { database in
            let cache = PostgresCacheStore(database: database)
            try await cache.store([
                self.entry("a", model: "m1", createdAt: 1_000), self.entry("b", model: "m1", createdAt: 5_000),
                self.entry("c", model: "m2", createdAt: 1_000), self.entry("d", model: "m2", createdAt: 5_000),
            ])
            var purged = try await cache.purge(model: "m1", olderThan: 2_000, all: false)
            XCTAssertEqual(purged, 1)
            purged = try await cache.purge(model: nil, olderThan: 2_000, all: false)
            XCTAssertEqual(purged, 1)
            let c = try await cache.entry(forKey: self.hex("c"))
            XCTAssertNil(c)
            purged = try await cache.purge(model: "m2", olderThan: nil, all: false)
            XCTAssertEqual(purged, 1)
            purged = try await cache.purge(model: nil, olderThan: nil, all: true)
            XCTAssertEqual(purged, 1)
            let totals = try await cache.totals()
            XCTAssertEqual(totals.entries, 0)
            XCTAssertEqual(totals.bodyBytes, 0)
            let generation = try await cache.purgeGeneration()
            XCTAssertEqual(generation, 4, "each purge that deleted moved the generation on")
            _ = try await cache.purge(model: nil, olderThan: nil, all: true)
            let unchanged = try await cache.purgeGeneration()
            XCTAssertEqual(unchanged, 4, "a purge that deleted nothing does not make daemons drop their memory")
        }
    }

    func testPurgeWithoutFilterOrAllIsRefused() async throws {
        try await withFreshDatabase { database in
            let cache = PostgresCacheStore(database: database)
            try await cache.store([self.entry("a")])
            do {
                _ = try await cache.purge(model: nil, olderThan: nil, all: false)
                XCTFail("purged without a filter")
            } catch let error as PostgresStoreError {
                XCTAssertTrue("\(error)".contains("--all"), "\(error)")
            }
            let a = try await cache.entry(forKey: self.hex("a"))
            XCTAssertNotNil(a)
        }
    }

    /// The same steps on the SQLite store and on PostgreSQL give the same statistics.
    func testStatisticsEqualTheSQLiteStores() async throws {
        let scratch = try ScratchFolder()
        let sqlite = CacheStore(database: try SluiceDatabase.open(path: scratch.file("sluice.db")))
        let entries = [
            entry("a", model: "m1", bytes: 10, createdAt: 1_000), entry("b", model: "m1", bytes: 20, createdAt: 3_000),
            entry("c", model: nil, bytes: 5, createdAt: 2_000), entry("d", model: "m2", bytes: 30, createdAt: 2_500),
            entry("e", model: "M2", bytes: 30, createdAt: 2_600), entry("f", model: "m3", bytes: 1, createdAt: 900, ttl: 10),
        ]
        let hits = [hex("a"): tally(2, at: 4_000), hex("c"): tally(1, at: 4_000), hex("e"): tally(5, at: 4_100)]
        try sqlite.store(entries)
        try sqlite.recordHits(hits)
        _ = try sqlite.deleteExpired(now: 950)
        let expected = try sqlite.statistics()
        let expectedTotals = try sqlite.totals()
        XCTAssertEqual(expected.models.count, 4)
        try await withFreshDatabase { database in
            let cache = PostgresCacheStore(database: database)
            let empty = try await cache.statistics()
            XCTAssertEqual(empty, CacheStatistics(
                entries: 0, bodyBytes: 0, totalHits: 0, oldestCreatedAt: nil, newestCreatedAt: nil, models: []))
            try await cache.store(entries)
            try await cache.recordHits(hits)
            _ = try await cache.deleteExpired(now: 950)
            let statistics = try await cache.statistics()
            XCTAssertEqual(statistics, expected)
            let totals = try await cache.totals()
            XCTAssertEqual(totals.entries, expectedTotals.entries)
            XCTAssertEqual(totals.bodyBytes, expectedTotals.bodyBytes)
        }
    }

    func testTheStoreIsUsableThroughTheStorageProtocols() async throws {
        try await withFreshDatabase { database in
            let entries: any CacheEntryStorage = PostgresCacheStore(database: database)
            let maintenance: any CacheMaintenanceStorage = PostgresCacheStore(database: database)
            try await entries.store([self.entry("a", createdAt: 1_000, ttl: 1)])
            let purged = try await maintenance.deleteExpired(now: 2_000)
            XCTAssertEqual(purged, 1)
        }
    }
}
