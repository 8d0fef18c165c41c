/// Stored answers as the request path uses them: look one up, store new ones,
/// count hits.
///
/// Freshness is the caller's decision: `entry(forKey:)` returns an expired
/// entry too, and `CacheMaintenanceStorage.deleteExpired(now:)` removes them.
public protocol CacheEntryStorage: Sendable {
    /// The entry stored under `key` (64 hex digits), or nil.
    func entry(forKey key: String) async throws -> CachedResponse?

    /// Stores `responses` in order, all or none; a later answer for a key
    /// replaces an earlier one, keeping its hit count and counting as just used.
    func store(_ responses: [CachedResponse]) async throws

    /// Adds hit counts and moves last use forward (never back); entries no
    /// longer stored are ignored.
    func recordHits(_ hits: [String: CacheHitTally]) async throws
}
