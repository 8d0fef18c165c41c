import SluiceStore

/// Where `ResponseCache` keeps its entries behind the memory front: this
/// daemon's SQLite file (`SQLiteCacheBackend`) or the PostgreSQL database a
/// fleet shares (`PostgreSQLCacheBackend`). Errors are the cache's to report:
/// a failing backend makes lookups misses and stores no-ops, never failed requests.
protocol CacheBackend: Sendable {
    /// Whether `entryNow(forKey:)` reads the store, so that a hit is answered
    /// on the event loop; when false, lookups past memory use `entry(forKey:)`.
    var readsSynchronously: Bool { get }

    /// A synchronous point read (only when `readsSynchronously`).
    func entryNow(forKey key: String) throws -> CachedResponse?

    func entry(forKey key: String) async throws -> CachedResponse?

    /// Stores a batch of answers in one transaction (the write queue's).
    func store(_ batch: [CachedResponse]) async throws

    func recordHits(_ hits: [Int64: PendingHits]) async throws

    func purge(model: String?, olderThan: Double?, all: Bool) async throws -> Int
    func deleteExpired(now: Double) async throws -> Int
    func evictLeastRecentlyUsed(whenOver limit: Int, downTo target: Int) async throws -> Int
    func totals() async throws -> (entries: Int, bodyBytes: Int)

    /// Housekeeping the store needs every second (SQLite: a WAL checkpoint).
    func checkpoint() async throws

    /// Whether entries were deleted by someone else since the last call (the
    /// CLI, another daemon of the fleet): the memory front must then go.
    func changedElsewhere() async throws -> Bool
}

/// The hits on one entry since the last flush, with its key.
struct PendingHits: Sendable {
    var key: String
    var tally: CacheHitTally
}
