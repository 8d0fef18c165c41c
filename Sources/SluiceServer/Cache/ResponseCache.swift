import Logging
import NIOConcurrencyHelpers
import SluiceCore
import SluiceStore

/// The cache step's view of storage: lookups, stores and hit bookkeeping over
/// a `CacheBackend` (this daemon's SQLite file, or a fleet's PostgreSQL), with
/// the hottest entries kept in memory in front.
///
/// Lookups try memory, then, where the backend reads synchronously (SQLite),
/// a point read on the spot (tens of µs, cheaper than an async hop); other
/// backends are read by `lookupInBackend`. An entry read from the backend
/// joins the memory front on its second read (see `AdmissionDoorkeeper`).
/// Stores and hit counters go to the backend off the request path. A storage
/// failure never fails a request: the step turns into a pass-through and the
/// error goes to the `HealthMonitor` (logged once per interval, shown in
/// `/healthz`). `sluice cache purge` asks the daemon to purge
/// (`purge(model:olderThanSeconds:all:)`); when someone else deletes entries
/// (the CLI on the database itself, another daemon of a fleet), the memory
/// front is dropped.
final class ResponseCache: Sendable {
    private let backend: any CacheBackend
    private let hot: NIOLockedValueBox<MemoryFront>
    private let clock: any WallClock
    private let logger: Logger
    private let health: HealthMonitor
    private let writes: CacheWriteQueue
    /// Hits not yet written to the store, by entry id (cheaper to hash and keep
    /// than the 64-digit key when hits spread over many entries).
    private let pendingHits = NIOLockedValueBox([Int64: PendingHits]())

    /// Stored answers converted to the shape a request asked for (a plain chat
    /// answer sent as events), so a repeated streamed hit is not converted again.
    private let conversions: NIOLockedValueBox<LRUByteCache<CachedResponse>>

    /// Seconds past its expiry that an entry is kept and may stand in for a failed upstream.
    private let staleIfError: Double

    init(
        backend: any CacheBackend, clock: any WallClock, logger: Logger, health: HealthMonitor,
        memoryBytes: Int = 32 << 20, staleIfError: Duration = .zero
    ) {
        self.staleIfError = staleIfError.inSeconds
        self.backend = backend
        self.writes = CacheWriteQueue(backend: backend, health: health)
        self.hot = NIOLockedValueBox(MemoryFront(entries: LRUByteCache(capacity: memoryBytes), doorkeeper: AdmissionDoorkeeper()))
        self.conversions = NIOLockedValueBox(LRUByteCache(capacity: memoryBytes / 4))
        self.clock = clock
        self.logger = logger
        self.health = health
    }

    /// Whether lookups past memory need `lookupInBackend` (an async store).
    var needsAsyncLookups: Bool { !backend.readsSynchronously }

    /// A stored answer for `key` that expired less than `staleIfError` ago, to
    /// stand in when the upstream fails (`cache.stale_if_error`); nil when that is 0.
    func lookupStale(key: CacheKey) async -> CachedResponse? {
        guard staleIfError > 0, let (entry, id) = await storedEntry(key: key) else { return nil }
        let now = clock.now()
        guard !entry.isFresh(at: now), now - entry.expiresAt < staleIfError else { return nil }
        countHit(id, key: entry.key, at: now)
        return entry
    }

    /// A fresh stored answer for `key`, no older than `maxAge` seconds when
    /// given: from memory, or from a backend that reads synchronously.
    func lookup(key: CacheKey, maxAge: Int?) -> CachedResponse? {
        guard let id = CacheStore.entryID(forKey: key.hex) else { return nil }
        let (inMemory, generation) = memoryEntry(key)
        var entry = inMemory
        if entry == nil, backend.readsSynchronously {
            do {
                entry = try backend.entryNow(forKey: key.hex)
                health.succeeded(.cacheLookup)
            } catch {
                health.failed(.cacheLookup, error: error)
                return nil
            }
            if let entry { admit(entry, id: id, readAt: generation) }
        }
        return fresh(entry, id: id, maxAge: maxAge)
    }

    /// `lookup` for a backend read asynchronously (a fleet's PostgreSQL): nil
    /// at once for one that reads synchronously (`lookup` asked it already).
    func lookupInBackend(key: CacheKey, maxAge: Int?) async -> CachedResponse? {
        guard !backend.readsSynchronously, let id = CacheStore.entryID(forKey: key.hex) else { return nil }
        guard let (entry, _) = await storedEntry(key: key) else { return nil }
        return fresh(entry, id: id, maxAge: maxAge)
    }

    private func fresh(_ entry: CachedResponse?, id: Int64, maxAge: Int?) -> CachedResponse? {
        guard let entry else { return nil }
        let now = clock.now()
        guard entry.isFresh(at: now) else { return nil }
        if let maxAge, now - entry.createdAt > Double(maxAge) { return nil }
        countHit(id, key: entry.key, at: now)
        return entry
    }

    /// `entry` in another shape, `variant` naming it: converted once by
    /// `convert`, then kept (beside the memory front, and dropped with it).
    func converted(_ entry: CachedResponse, variant: String, _ convert: () -> CachedResponse?) -> CachedResponse? {
        // The creation time tells a replaced answer from the one converted before.
        let key = "\(entry.key) \(variant) \(entry.createdAt)"
        if let kept = conversions.withLockedValue({ $0.value(forKey: key) }) { return kept }
        guard let shaped = convert() else { return nil }
        conversions.withLockedValue { $0.set(shaped, forKey: key, cost: Self.memoryCost(of: shaped)) }
        return shaped
    }

    private func countHit(_ id: Int64, key: String, at now: Double) {
        pendingHits.withLockedValue { pending in
            pending[id, default: PendingHits(key: key, tally: CacheHitTally(count: 0, lastUsedAt: now))].tally.add(at: now)
        }
    }

    private func memoryEntry(_ key: CacheKey) -> (CachedResponse?, UInt64) {
        hot.withLockedValue { ($0.entries.value(forKey: key.hex), $0.generation) }
    }

    /// Lets an entry read from the backend into memory (on its second read).
    private func admit(_ entry: CachedResponse, id: Int64, readAt generation: UInt64) {
        hot.withLockedValue { hot in
            // Read before a purge emptied the front: the row may be gone now.
            if hot.generation == generation, hot.doorkeeper.admits(entryID: id) {
                hot.entries.set(entry, forKey: entry.key, cost: Self.memoryCost(of: entry))
            }
        }
    }

    /// The entry stored for `key`, fresh or not, from memory or the backend, with its id.
    private func storedEntry(key: CacheKey) async -> (CachedResponse, Int64)? {
        // The entry's id keys the doorkeeper and the pending hits; a CacheKey is always hex.
        guard let id = CacheStore.entryID(forKey: key.hex) else { return nil }
        let (inMemory, generation) = memoryEntry(key)
        if let inMemory { return (inMemory, id) }
        let entry: CachedResponse?
        do {
            entry = try await backend.entry(forKey: key.hex)
            health.succeeded(.cacheLookup)
        } catch {
            health.failed(.cacheLookup, error: error)
            return nil
        }
        guard let entry else { return nil }
        admit(entry, id: id, readAt: generation)
        return (entry, id)
    }

    /// Keeps an answer: in memory at once, in SQLite shortly after (see
    /// `CacheWriteQueue`). Failures are logged, never thrown.
    func save(_ entry: CachedResponse) {
        remember(entry)
        writes.enqueue(entry)
    }

    /// Keeps an answer and waits until the backend has it (fleet mode: other
    /// daemons wait for it there). A failure is logged and the answer queued.
    func saveNow(_ entry: CachedResponse) async {
        remember(entry)
        do {
            try await backend.store([entry])
            health.succeeded(.cacheStore)
        } catch {
            health.failed(.cacheStore, error: error)
            writes.enqueue(entry)
        }
    }

    /// Writes every answer still queued (shutdown).
    func drainWrites() async {
        await writes.drain()
    }

    func now() -> Double { clock.now() }

    private func remember(_ entry: CachedResponse) {
        hot.withLockedValue { $0.entries.set(entry, forKey: entry.key, cost: Self.memoryCost(of: entry)) }
    }

    private static func memoryCost(of entry: CachedResponse) -> Int {
        entry.body.count + entry.key.utf8.count + 256
    }

    /// Deletes stored answers for `sluice cache purge` (through the daemon's Unix
    /// socket) and returns how many. When it returns no lookup serves a purged
    /// answer: answers still queued for SQLite are written first (so they are
    /// purged too), the delete renews the lookups' read snapshots
    /// (`CacheStore.writeEntries`), and the memory front is emptied, so that a
    /// lookup that read SQLite before the delete cannot put its entry back.
    ///
    /// - Parameter olderThanSeconds: only answers stored longer ago than this.
    func purge(model: String?, olderThanSeconds: Double?, all: Bool) async throws -> Int {
        await writes.drain()
        let cutoff = olderThanSeconds.map { clock.now() - $0 }
        let purged = try await backend.purge(model: model, olderThan: cutoff, all: all)
        dropMemory()
        return purged
    }

    /// Empties the memory front. Bumping its generation keeps lookups that
    /// read SQLite before now from adding what they read.
    private func dropMemory() {
        hot.withLockedValue { hot in
            hot.entries.removeAll()
            hot.generation &+= 1
        }
        conversions.withLockedValue { $0.removeAll() }
    }

    /// Drops the memory front (and SQLite's read snapshots) when someone else
    /// deleted entries (`sluice cache purge` on the database, another daemon
    /// of a fleet), so purged answers are not served.
    func dropMemoryIfChangedElsewhere() async {
        do {
            if try await backend.changedElsewhere() {
                dropMemory()
                logger.debug("database changed by another process; in-memory cache entries dropped")
            }
            health.succeeded(.cacheChangeCheck)
        } catch {
            health.failed(.cacheChangeCheck, error: error)
        }
    }

    /// Writes hit counters and last-use times (for LRU eviction) in one batch.
    func flushHits() async {
        let hits = pendingHits.withLockedValue { pending in
            defer { pending = [:] }
            return pending
        }
        guard !hits.isEmpty else { return }
        do {
            try await backend.recordHits(hits)
            health.succeeded(.cacheHitFlush)
        } catch {
            health.failed(.cacheHitFlush, error: error, metadata: ["entries": "\(hits.count)"])
        }
    }

    /// Lets the write-ahead log catch up with the lookups' read snapshots (see
    /// `CacheStore.checkpoint()`).
    func checkpoint() async {
        do {
            try await backend.checkpoint()
            health.succeeded(.cacheCheckpoint)
        } catch {
            health.failed(.cacheCheckpoint, error: error)
        }
    }

    /// Drops expired entries, then evicts past the size cap.
    func sweep(maxBytes: Int) async {
        do {
            let expired = try await backend.deleteExpired(now: clock.now() - staleIfError)
            if expired > 0 { logger.debug("expired cache entries removed", metadata: ["entries": "\(expired)"]) }
            health.succeeded(.cacheSweep)
        } catch {
            health.failed(.cacheSweep, error: error)
        }
        await evict(toFit: maxBytes)
    }

    /// Evicts least recently used entries past the size cap (cheap when under it:
    /// the store keeps a running total).
    func evict(toFit maxBytes: Int) async {
        guard let stored = await totals(), stored.bodyBytes > maxBytes else { return }
        // Eviction goes by last use: write the hits counted since the last flush first.
        await flushHits()
        // Past the cap, evict down to 90% of it: finding the oldest entries sorts
        // them all, so it should not happen on every store.
        let target = maxBytes - maxBytes / 10
        do {
            let evicted = try await backend.evictLeastRecentlyUsed(whenOver: maxBytes, downTo: target)
            if evicted > 0 {
                dropMemory()
                logger.debug("cache entries evicted past max_size", metadata: ["entries": "\(evicted)"])
            }
            health.succeeded(.cacheEviction)
        } catch {
            health.failed(.cacheEviction, error: error)
        }
    }

    /// Entries and body bytes stored, for the gauges.
    func totals() async -> (entries: Int, bodyBytes: Int)? {
        try? await backend.totals()
    }
}

/// The in-memory front: hot entries, and the doorkeeper deciding who gets in.
private struct MemoryFront {
    var entries: LRUByteCache<CachedResponse>
    var doorkeeper: AdmissionDoorkeeper
    /// Bumped each time `entries` is emptied (see `ResponseCache.dropMemory()`).
    var generation: UInt64 = 0
}
