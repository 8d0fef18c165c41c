import Foundation
import GRDB
import SluiceCore

/// The response cache table. All methods are synchronous, for the server's own
/// threads: a point read costs far less than an async hop.
///
/// Freshness is the caller's decision: `entry(forKey:)` returns an expired entry
/// too, and `deleteExpired(now:)` removes them in the background.
public final class CacheStore: Sendable {
    let database: SluiceDatabase
    /// Lookups go through connections of their own (see `CacheEntryReader`).
    private let readers: CacheEntryReaderPool

    /// - Parameter maxSnapshotAge: how long lookups may reuse one read snapshot
    ///   (see `CacheEntryReaderPool`).
    public init(database: SluiceDatabase, maxSnapshotAge: Duration = .seconds(1)) {
        self.database = database
        self.readers = CacheEntryReaderPool(path: database.path, maxSnapshotAge: maxSnapshotAge)
    }

    /// The entry stored under `key` (64 hex digits), or nil. A row that cannot be
    /// decoded is deleted and reads as a miss.
    public func entry(forKey key: String) throws -> CachedResponse? {
        guard let id = Self.entryID(forKey: key) else { return nil }
        switch try readers.entry(id: id, key: key) {
        case .found(let entry): return entry
        case .notFound: return nil
        case .undecodable: break
        }
        try writeEntries("cache cleanup") { db in
            try db.execute(sql: "DELETE FROM cache_entries WHERE id = ?", arguments: [id])
        }
        return nil
    }

    /// Inserts or replaces the entry under `response.key`. Replacing keeps its hit
    /// count and marks it as just used.
    public func store(_ response: CachedResponse) throws {
        try store([response])
    }

    /// Stores `responses` in order, in one transaction; a later answer for the same
    /// key replaces an earlier one.
    public func store(_ responses: [CachedResponse]) throws {
        let rows = try responses.map { response -> (id: Int64, response: CachedResponse) in
            guard let id = Self.entryID(forKey: response.key) else {
                throw SluiceStoreError.failed("cache store", path: database.path, reason: "the cache key is not hex")
            }
            return (id, response)
        }
        guard !rows.isEmpty else { return }
        try writeEntries("cache store") { db in
            let upsert = try db.cachedStatement(sql: Self.upsertSQL)
            for (id, response) in rows {
                try upsert.execute(arguments: [
                    id, response.key, response.keyID, response.model, response.route, response.status,
                    response.contentType, Data(response.body), response.body.count,
                    response.createdAt, response.expiresAt,
                    response.usage?.promptTokens, response.usage?.completionTokens,
                    response.usage?.totalTokens, response.usage?.cost,
                ])
            }
        }
    }

    /// Adds hit counts and moves last use forward (never back), for many entries in
    /// one transaction; entries no longer stored are ignored. Only the narrow
    /// `cache_usage` table is written.
    public func recordHits(_ hits: [String: CacheHitTally]) throws {
        var byID: [Int64: CacheHitTally] = [:]
        for (key, tally) in hits {
            if let id = Self.entryID(forKey: key) { byID[id] = tally }
        }
        try recordHits(byEntryID: byID)
    }

    /// `recordHits(_:)` by entry id (see `entryID(forKey:)`).
    public func recordHits(byEntryID hits: [Int64: CacheHitTally]) throws {
        guard !hits.isEmpty else { return }
        try database.write("cache hit recording") { db in
            let update = try db.cachedStatement(sql: """
                UPDATE cache_usage
                SET hit_count = hit_count + ?, last_used_at = max(last_used_at, ?)
                WHERE entry_id = ?
                """)
            // In id order, so consecutive updates tend to share pages.
            for (id, tally) in hits.sorted(by: { $0.key < $1.key }) {
                try update.execute(arguments: [tally.count, tally.lastUsedAt, id])
            }
        }
    }

    /// Runs a write that changes `cache_entries`; every lookup that starts after
    /// it returns sees its effect (lookups otherwise reuse a read snapshot).
    func writeEntries<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        defer { readers.invalidateSnapshots() }
        return try database.write(operation, body)
    }

    /// Lets lookups see what another process committed (`sluice cache purge`).
    public func refreshAfterOutsideChange() {
        readers.invalidateSnapshots()
    }

    /// Copies the write-ahead log back into the database while lookups hold no
    /// snapshot (idle lookup connections end theirs), so that the log can start
    /// over from its beginning at the next write; returns whether every frame
    /// was copied. Lookups keep snapshots
    /// between calls, which would otherwise let the log grow under steady
    /// writes: the daemon calls this every second.
    @discardableResult
    public func checkpoint() throws -> Bool {
        try readers.withoutSnapshots {
            try database.checkpoint()
        }
    }

    /// The row id of the entry under `key`: the key's first 8 bytes (16 hex
    /// digits) as a signed big-endian integer; nil when `key` does not start
    /// with 16 hex digits. Migration 0002 computes the same in SQL.
    public static func entryID(forKey key: String) -> Int64? {
        var value: UInt64 = 0
        var digits = 0
        for byte in key.utf8.prefix(16) {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(nibble)
            digits += 1
        }
        return digits == 16 ? Int64(bitPattern: value) : nil
    }

    // MARK: SQL and decoding

    private static let upsertSQL = """
        INSERT INTO cache_entries (
            id, key, key_id, model, route, status, content_type, body, body_bytes,
            created_at, expires_at,
            prompt_tokens, completion_tokens, total_tokens, cost)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET
            key = excluded.key, key_id = excluded.key_id, model = excluded.model, route = excluded.route,
            status = excluded.status, content_type = excluded.content_type,
            body = excluded.body, body_bytes = excluded.body_bytes,
            created_at = excluded.created_at, expires_at = excluded.expires_at,
            prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
            total_tokens = excluded.total_tokens, cost = excluded.cost
        """
}

/// Hits on one entry not yet written to the store.
public struct CacheHitTally: Sendable, Equatable {
    public var count: Int
    /// Unix seconds of the latest hit.
    public var lastUsedAt: Double

    public init(count: Int, lastUsedAt: Double) {
        self.count = count
        self.lastUsedAt = lastUsedAt
    }

    /// Adds one hit at `time`.
    public mutating func add(at time: Double) {
        count += 1
        lastUsedAt = max(lastUsedAt, time)
    }
}
