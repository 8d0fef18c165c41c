import SluiceCore

/// Keeping the stored answers within bounds, and reporting on them: the
/// background sweeper and `sluice cache`.
public protocol CacheMaintenanceStorage: Sendable {
    /// Deletes entries whose expiry is at or before `now` (unix seconds); returns how many.
    func deleteExpired(now: Double) async throws -> Int

    /// When stored bodies total more than `limit` bytes, deletes least recently
    /// used entries until they total at most `target` (≤ `limit`); returns how many.
    func evictLeastRecentlyUsed(whenOver limit: Int, downTo target: Int) async throws -> Int

    /// Deletes the entries for `model`, or created before `olderThan` (unix
    /// seconds), or all of them with `all`; returns how many. Without `all` at
    /// least one filter is required, so that a forgotten flag never empties the cache.
    func purge(model: String?, olderThan: Double?, all: Bool) async throws -> Int

    /// Totals over the whole cache and per model, largest first.
    func statistics() async throws -> CacheStatistics

    /// Entries and body bytes stored: cheap enough for every maintenance tick.
    func totals() async throws -> (entries: Int, bodyBytes: Int)
}
