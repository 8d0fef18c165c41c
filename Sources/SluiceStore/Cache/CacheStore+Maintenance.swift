import GRDB

extension CacheStore {
    /// Deletes entries whose `expires_at` is at or before `now`; returns how many.
    /// Finds them by scanning the narrow `cache_usage` table (no index to keep up
    /// on every store).
    public func deleteExpired(now: Double) throws -> Int {
        try writeEntries("cache expiry") { db in
            try db.execute(sql: """
                DELETE FROM cache_entries
                WHERE id IN (SELECT entry_id FROM cache_usage WHERE expires_at <= ?)
                """, arguments: [now])
            return db.changesCount
        }
    }

    /// Deletes least recently used entries until stored bodies total at most
    /// `maxBytes`; returns how many were deleted. Reads the running total kept by
    /// triggers, so a cache under its cap costs one point read.
    public func evictLeastRecentlyUsed(toFit maxBytes: Int) throws -> Int {
        try evictLeastRecentlyUsed(whenOver: maxBytes, downTo: maxBytes)
    }

    /// When stored bodies total more than `limit`, deletes least recently used
    /// entries until they total at most `target` (≤ `limit`); returns how many were
    /// deleted. Finding the oldest sorts `cache_usage`, which has no index on last
    /// use (so that hits stay cheap): a target below the limit makes that rare.
    public func evictLeastRecentlyUsed(whenOver limit: Int, downTo target: Int) throws -> Int {
        try writeEntries("cache eviction") { db in
            let total = try Int.fetchOne(db, sql: "SELECT body_bytes FROM cache_totals WHERE id = 1") ?? 0
            guard total > limit else { return 0 }
            let excess = total - max(min(target, limit), 0)
            var freed = 0
            var victims: [Int64] = []
            let oldestFirst = try Row.fetchCursor(
                db, sql: "SELECT entry_id, body_bytes FROM cache_usage ORDER BY last_used_at, entry_id")
            while freed < excess, let row = try oldestFirst.next() {
                victims.append(row[0])
                freed += row[1] as Int
            }
            let delete = try db.makeStatement(sql: "DELETE FROM cache_entries WHERE id = ?")
            for id in victims {
                try delete.execute(arguments: [id])
            }
            return victims.count
        }
    }

    /// Deletes entries and returns how many.
    ///
    /// - Parameters:
    ///   - model: only entries for this model.
    ///   - olderThan: only entries created before this unix time.
    ///   - all: every entry, whatever the filters say. Without it at least one filter is
    ///     required, so that a forgotten flag never empties the cache.
    public func purge(model: String?, olderThan: Double?, all: Bool) throws -> Int {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if !all {
            if let model {
                conditions.append("model = ?")
                arguments += [model]
            }
            if let olderThan {
                conditions.append("created_at < ?")
                arguments += [olderThan]
            }
            guard !conditions.isEmpty else {
                throw SluiceStoreError.failed(
                    "cache purge", path: database.path,
                    reason: "no model or age given; pass --all to purge every entry")
            }
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try writeEntries("cache purge") { db in
            try db.execute(sql: "DELETE FROM cache_entries" + filter, arguments: arguments)
            return db.changesCount
        }
    }
}
