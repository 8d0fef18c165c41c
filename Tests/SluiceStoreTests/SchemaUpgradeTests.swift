import Foundation
import GRDB
import SluiceCore
@testable import SluiceStore
import XCTest

/// Opening a database left at an earlier schema version brings it up to date
/// and keeps what it holds.
final class SchemaUpgradeTests: XCTestCase {
    /// Cache keys as version 1 stored them; the first starts with a digit ≥ 8,
    /// so its id is negative.
    private let oldKey = "f0e1d2c3b4a59687" + String(repeating: "1", count: 48)
    private let newKey = "0123456789abcdef" + String(repeating: "2", count: 48)

    /// A database file at schema version 1, as Sluice 1 left it: two cache
    /// entries (one hit three times) and one usage row.
    private func makeVersionOneDatabase(at path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            let first = EmbeddedMigrations.all[0]
            XCTAssertEqual(first.identifier, "0001_initial")
            try db.execute(sql: first.sql)
            try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('0001_initial')")
            try db.execute(sql: """
                INSERT INTO cache_entries (
                    key, key_id, model, route, status, content_type, body, body_bytes,
                    created_at, expires_at, last_used_at, hit_count,
                    prompt_tokens, completion_tokens, total_tokens, cost)
                VALUES
                    ('\(oldKey)', 'web', 'm1', '/v1/chat/completions', 200, 'application/json', x'7b7d', 2,
                     1000, 9000, 5000, 3, 10, 20, 30, 0.5),
                    ('\(newKey)', 'web', NULL, '/v1/embeddings', 200, 'application/json', x'5b5d20', 3,
                     2000, 9000, 2000, 0, NULL, NULL, NULL, NULL)
                """)
            try db.execute(sql: """
                INSERT INTO usage (timestamp, key_id, route, status, cache_outcome, latency_ms,
                                   streaming, request_bytes, response_bytes)
                VALUES (1000, 'web', '/v1/chat/completions', 200, 'miss', 12.5, 0, 40, 2)
                """)
        }
    }

    func testVersionOneIsUpgradedAndKeepsEntriesHitsAndUsage() throws {
        let scratch = try ScratchFolder()
        let path = scratch.file("sluice.db")
        try makeVersionOneDatabase(at: path)

        let database = try SluiceDatabase.open(path: path)
        XCTAssertEqual(database.migrationsAppliedAtOpen, Array(SluiceDatabase.knownMigrations.dropFirst()))
        let cache = CacheStore(database: database)

        let old = try XCTUnwrap(cache.entry(forKey: oldKey))
        XCTAssertEqual(old.body, Array("{}".utf8))
        XCTAssertEqual(old.usage, TokenUsage(promptTokens: 10, completionTokens: 20, totalTokens: 30, cost: 0.5))
        XCTAssertNotNil(try cache.entry(forKey: newKey))
        let ids = try database.pool.read { try Int64.fetchAll($0, sql: "SELECT id FROM cache_entries ORDER BY key") }
        XCTAssertEqual(ids, [CacheStore.entryID(forKey: newKey), CacheStore.entryID(forKey: oldKey)])
        XCTAssertEqual(ids.last, Int64(bitPattern: 0xf0e1_d2c3_b4a5_9687))
        let statistics = try cache.statistics()
        XCTAssertEqual(statistics.entries, 2)
        XCTAssertEqual(statistics.bodyBytes, 5)
        XCTAssertEqual(statistics.totalHits, 3)
        XCTAssertEqual(try database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM usage") }, 1)

        // The old key was used last at 5000, the new one at 2000: eviction keeps the last use it had.
        XCTAssertEqual(try cache.evictLeastRecentlyUsed(toFit: 2), 1)
        XCTAssertNil(try cache.entry(forKey: newKey))
        XCTAssertNotNil(try cache.entry(forKey: oldKey))

        // The totals kept by triggers still add up after the upgrade.
        try cache.store(CachedResponse(
            key: String(repeating: "3", count: 64), keyID: "web", model: "m1", route: "/v1/chat/completions", status: 200,
            contentType: "application/json", body: [1, 2, 3, 4], createdAt: 6_000, expiresAt: 9_000))
        XCTAssertEqual(try cache.totals().entries, 2)
        XCTAssertEqual(try cache.totals().bodyBytes, 6)
        let integrity = try database.pool.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
        XCTAssertEqual(integrity, "ok")
    }
}
