import GRDB

extension CacheStore {
    /// Entries and body bytes stored, from the one-row table the triggers keep
    /// current: a point read, cheap enough for every maintenance tick.
    public func totals() throws -> (entries: Int, bodyBytes: Int) {
        try database.readSingleStatement("cache totals") { db in
            let row = try Row.fetchOne(db, sql: "SELECT entries, body_bytes FROM cache_totals WHERE id = 1")
            return (row?[0] ?? 0, row?[1] ?? 0)
        }
    }
}
