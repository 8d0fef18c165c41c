import NIOConcurrencyHelpers
import SluiceStore

/// The cache a fleet shares, in PostgreSQL: every daemon reads what any stored.
/// Reads are asynchronous (a round trip), so a hit that is not in this
/// daemon's memory front is answered off the event loop. A purge anywhere in
/// the fleet moves `cache_purges`; `changedElsewhere` sees it and the memory
/// front is dropped.
struct PostgreSQLCacheBackend: CacheBackend {
    let store: PostgresCacheStore
    /// Lookups (on the request path) skip the database while it is failing.
    let breaker: DatabaseBreaker
    private let seenGeneration = NIOLockedValueBox<Int64?>(nil)

    init(store: PostgresCacheStore, breaker: DatabaseBreaker) {
        self.store = store
        self.breaker = breaker
    }

    var readsSynchronously: Bool { false }

    func entryNow(forKey key: String) throws -> CachedResponse? { nil }

    func entry(forKey key: String) async throws -> CachedResponse? {
        guard breaker.allowsRequests else { throw DatabaseUnavailable() }
        do {
            let entry = try await store.entry(forKey: key)
            breaker.succeeded()
            return entry
        } catch {
            breaker.failed()
            throw error
        }
    }

    func store(_ batch: [CachedResponse]) async throws {
        try await store.store(batch)
    }

    func recordHits(_ hits: [Int64: PendingHits]) async throws {
        var byKey: [String: CacheHitTally] = [:]
        for hit in hits.values { byKey[hit.key] = hit.tally }
        try await store.recordHits(byKey)
    }

    func purge(model: String?, olderThan: Double?, all: Bool) async throws -> Int {
        try await store.purge(model: model, olderThan: olderThan, all: all)
    }

    func deleteExpired(now: Double) async throws -> Int {
        try await store.deleteExpired(now: now)
    }

    func evictLeastRecentlyUsed(whenOver limit: Int, downTo target: Int) async throws -> Int {
        try await store.evictLeastRecentlyUsed(whenOver: limit, downTo: target)
    }

    func totals() async throws -> (entries: Int, bodyBytes: Int) {
        try await store.totals()
    }

    func checkpoint() async throws {}

    func changedElsewhere() async throws -> Bool {
        let generation = try await store.purgeGeneration()
        return seenGeneration.withLockedValue { seen in
            defer { seen = generation }
            return seen.map { $0 != generation } ?? false
        }
    }
}
