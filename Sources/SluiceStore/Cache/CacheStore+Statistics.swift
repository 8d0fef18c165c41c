import GRDB
import SluiceCore

extension CacheStore {
    /// Totals over the whole cache and per model.
    public func statistics() throws -> CacheStatistics {
        try database.read("cache statistics") { db in
            let totals = try Row.fetchOne(db, sql: """
                SELECT count(*), ifnull(sum(body_bytes), 0), ifnull(sum(hit_count), 0),
                       min(created_at), max(created_at)
                FROM cache_entries
                """)
            let models = try Row.fetchAll(db, sql: """
                SELECT model, count(*), sum(body_bytes), sum(hit_count)
                FROM cache_entries GROUP BY model ORDER BY sum(body_bytes) DESC, model
                """)
            return CacheStatistics(
                entries: totals?[0] ?? 0,
                bodyBytes: totals?[1] ?? 0,
                totalHits: totals?[2] ?? 0,
                oldestCreatedAt: totals?[3],
                newestCreatedAt: totals?[4],
                models: models.map { row in
                    CacheStatistics.Model(model: row[0], entries: row[1], bodyBytes: row[2], hits: row[3])
                }
            )
        }
    }
}
