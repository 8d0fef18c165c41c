import GRDB
import SluiceCore

extension CacheStore {
    /// Totals over the whole cache and per model.
    public func statistics() throws -> CacheStatistics {
        try database.read("cache statistics") { db in
            let totals = try Row.fetchOne(db, sql: """
                SELECT count(*), ifnull(sum(e.body_bytes), 0), ifnull(sum(u.hit_count), 0),
                       min(e.created_at), max(e.created_at)
                FROM cache_entries e LEFT JOIN cache_usage u ON u.entry_id = e.id
                """)
            let models = try Row.fetchAll(db, sql: """
                SELECT e.model, count(*), sum(e.body_bytes), ifnull(sum(u.hit_count), 0)
                FROM cache_entries e LEFT JOIN cache_usage u ON u.entry_id = e.id
                GROUP BY e.model ORDER BY sum(e.body_bytes) DESC, e.model
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
