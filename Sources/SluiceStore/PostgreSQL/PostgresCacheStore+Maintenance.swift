import PostgresNIO
import SluiceCore

extension PostgresCacheStore: CacheMaintenanceStorage {
    public func deleteExpired(now: Double) async throws -> Int {
        try await count("cache expiry", """
            WITH gone AS (DELETE FROM cache_entries WHERE expires_at <= \(now) RETURNING 1)
            SELECT count(*) FROM gone
            """)
    }

    /// Deletes least recently used entries until stored bodies total at most `maxBytes`.
    public func evictLeastRecentlyUsed(toFit maxBytes: Int) async throws -> Int {
        try await evictLeastRecentlyUsed(whenOver: maxBytes, downTo: maxBytes)
    }

    /// Reads the running total first, so a cache under its cap costs one point
    /// read. Evicting takes the totals row's lock: daemons evicting at once take
    /// turns, and the later one finds the cache already under its cap.
    public func evictLeastRecentlyUsed(whenOver limit: Int, downTo target: Int) async throws -> Int {
        guard try await totals().bodyBytes > limit else { return 0 }
        let target = max(min(target, limit), 0)
        return try await count("cache eviction", """
            WITH totals AS (
                SELECT body_bytes FROM cache_totals WHERE id = 1 FOR UPDATE
            ), oldest_first AS (
                SELECT key, sum(body_bytes) OVER (ORDER BY last_used_at, key) - body_bytes AS freed_before
                FROM cache_entries
            ), gone AS (
                DELETE FROM cache_entries e USING oldest_first o, totals t
                WHERE t.body_bytes > \(limit) AND e.key = o.key AND o.freed_before < t.body_bytes - \(target)
                RETURNING 1
            )
            SELECT count(*) FROM gone
            """)
    }

    public func purge(model: String?, olderThan: Double?, all: Bool) async throws -> Int {
        // Each purge that deletes also bumps cache_purges, in the same statement, so
        // every daemon drops its in-memory copies (`purgeGeneration()`).
        if all {
            return try await count("cache purge", """
                WITH gone AS (DELETE FROM cache_entries RETURNING 1),
                bumped AS (UPDATE cache_purges SET generation = generation + 1 WHERE id = 1 AND EXISTS (SELECT 1 FROM gone))
                SELECT count(*) FROM gone
                """)
        }
        guard model != nil || olderThan != nil else {
            throw PostgresStoreError.failed(
                "cache purge", server: database.url.server, reason: "no model or age given; pass --all to purge every entry")
        }
        // A filter left out matches every row.
        return try await count("cache purge", """
            WITH gone AS (
                DELETE FROM cache_entries
                WHERE (\(model)::text IS NULL OR model = \(model))
                  AND (\(olderThan)::float8 IS NULL OR created_at < \(olderThan))
                RETURNING 1
            ),
            bumped AS (UPDATE cache_purges SET generation = generation + 1 WHERE id = 1 AND EXISTS (SELECT 1 FROM gone))
            SELECT count(*) FROM gone
            """)
    }

    /// A number every purge that deleted something moves on.
    public func purgeGeneration() async throws -> Int64 {
        let logger = database.logger
        return try await database.perform("cache purge check") { connection in
            try await connection.query("SELECT generation FROM cache_purges WHERE id = 1", logger: logger)
                .collect().first?.decode(Int64.self) ?? 0
        }
    }

    /// Runs a `SELECT count(*)` statement and returns the count.
    func count(_ operation: String, _ query: PostgresQuery) async throws -> Int {
        let logger = database.logger
        return try await database.perform(operation) { connection in
            try await connection.query(query, logger: logger).collect().first?.decode(Int.self) ?? 0
        }
    }
}
