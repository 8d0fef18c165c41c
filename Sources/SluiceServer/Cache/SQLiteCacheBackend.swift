import NIOPosix
import SluiceStore

/// The cache in this daemon's SQLite file. Point reads are synchronous (tens
/// of µs, cheaper than an async hop); everything else runs on the thread pool.
struct SQLiteCacheBackend: CacheBackend {
    let store: CacheStore
    let changeWatcher: ExternalChangeWatcher
    let threadPool: NIOThreadPool

    init(database: SluiceDatabase, threadPool: NIOThreadPool) {
        self.store = CacheStore(database: database)
        self.changeWatcher = ExternalChangeWatcher(database: database)
        self.threadPool = threadPool
    }

    var readsSynchronously: Bool { true }

    func entryNow(forKey key: String) throws -> CachedResponse? {
        try store.entry(forKey: key)
    }

    func entry(forKey key: String) async throws -> CachedResponse? {
        try store.entry(forKey: key)
    }

    func store(_ batch: [CachedResponse]) async throws {
        do {
            try await threadPool.runIfActive { [store] in try store.store(batch) }
        } catch is CancellationError {
            // The pool has stopped (shutdown), or the writer was cancelled: write from here.
            try store.store(batch)
        }
    }

    func recordHits(_ hits: [Int64: PendingHits]) async throws {
        let byID = hits.mapValues(\.tally)
        try await threadPool.runIfActive { [store] in try store.recordHits(byEntryID: byID) }
    }

    func purge(model: String?, olderThan: Double?, all: Bool) async throws -> Int {
        try await threadPool.runIfActive { [store] in try store.purge(model: model, olderThan: olderThan, all: all) }
    }

    func deleteExpired(now: Double) async throws -> Int {
        try await threadPool.runIfActive { [store] in try store.deleteExpired(now: now) }
    }

    func evictLeastRecentlyUsed(whenOver limit: Int, downTo target: Int) async throws -> Int {
        try await threadPool.runIfActive { [store] in try store.evictLeastRecentlyUsed(whenOver: limit, downTo: target) }
    }

    func totals() async throws -> (entries: Int, bodyBytes: Int) {
        try await threadPool.runIfActive { [store] in try store.totals() }
    }

    func checkpoint() async throws {
        _ = try await threadPool.runIfActive { [store] in try store.checkpoint() }
    }

    func changedElsewhere() async throws -> Bool {
        try await threadPool.runIfActive { [changeWatcher, store] in
            let changed = try changeWatcher.changedSinceLastCheck()
            if changed { store.refreshAfterOutsideChange() }
            return changed
        }
    }
}
