import PostgresNIO
import SluiceCore

extension PostgresCacheStore {
    /// One statement (one snapshot): the totals row and one row per model,
    /// ordered as the SQLite store orders them (largest first, then by model
    /// in byte order, no model first).
    public func statistics() async throws -> CacheStatistics {
        let logger = database.logger
        return try await database.perform("cache statistics") { connection in
            let rows = try await connection.query("""
                SELECT grouping(model) = 1, model, count(*), coalesce(sum(body_bytes), 0)::int8,
                       coalesce(sum(hit_count), 0)::int8, min(created_at), max(created_at)
                FROM cache_entries
                GROUP BY GROUPING SETS ((model), ())
                ORDER BY 1 DESC, 4 DESC, model COLLATE "C" NULLS FIRST
                """, logger: logger)
            var statistics = CacheStatistics(
                entries: 0, bodyBytes: 0, totalHits: 0, oldestCreatedAt: nil, newestCreatedAt: nil, models: [])
            for try await (isTotal, model, entries, bodyBytes, hits, oldest, newest) in rows.decode(
                (Bool, String?, Int, Int, Int, Double?, Double?).self
            ) {
                if isTotal {
                    statistics.entries = entries
                    statistics.bodyBytes = bodyBytes
                    statistics.totalHits = hits
                    statistics.oldestCreatedAt = oldest
                    statistics.newestCreatedAt = newest
                } else {
                    statistics.models.append(CacheStatistics.Model(model: model, entries: entries, bodyBytes: bodyBytes, hits: hits))
                }
            }
            return statistics
        }
    }

    /// From the one-row table the triggers keep current: a point read.
    public func totals() async throws -> (entries: Int, bodyBytes: Int) {
        let logger = database.logger
        let row = try await database.perform("cache totals") { connection in
            try await connection.query("SELECT entries, body_bytes FROM cache_totals WHERE id = 1", logger: logger)
                .collect().first?.decode((Int, Int).self)
        }
        return (row?.0 ?? 0, row?.1 ?? 0)
    }
}
