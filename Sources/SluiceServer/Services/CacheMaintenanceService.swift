import Logging
import ServiceLifecycle
import SluiceCore

/// Keeps the cache bounded and its bookkeeping current, on four beats:
/// - every `changeCheckInterval` (100 ms): drop the in-memory front if another
///   process (`sluice cache purge`) wrote the database;
/// - every second: evict past `max_size` (writing pending hits first), update
///   the gauges, and checkpoint the write-ahead log while lookups hold no read
///   snapshot (they keep one otherwise, which would let the log grow), and
///   log the counts of repeated failures that no later failure has carried;
/// - every 30 s, and at shutdown: write hit counters and last-use times. Hits
///   spread over many entries dirty many pages; batching 30 s of them writes
///   each page once instead of once a second;
/// - every minute (and at start): delete expired entries.
struct CacheMaintenanceService: Service {
    let cache: ResponseCache
    let maxBytes: Int
    let metrics: SluiceMetrics
    var health: HealthMonitor?
    var changeCheckInterval = Duration.milliseconds(100)
    var evictionInterval = Duration.seconds(1)
    var hitFlushInterval = Duration.seconds(30)
    var sweepInterval = Duration.seconds(60)

    func run() async throws {
        var sinceSweep = sweepInterval  // sweep once at start
        var sinceEviction = evictionInterval  // gauges at once
        var sinceFlush = Duration.zero
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            await cache.dropMemoryIfChangedElsewhere()
            if sinceFlush >= hitFlushInterval {
                await cache.flushHits()
                sinceFlush = .zero
            }
            if sinceEviction >= evictionInterval {
                await cache.evict(toFit: maxBytes)
                await cache.checkpoint()
                if let totals = await cache.totals() {
                    metrics.setCache(entries: totals.entries, bytes: totals.bodyBytes)
                }
                health?.logDueSummaries()
                sinceEviction = .zero
            }
            if sinceSweep >= sweepInterval {
                await cache.sweep(maxBytes: maxBytes)
                sinceSweep = .zero
            }
            do {
                try await cancelWhenGracefulShutdown { [changeCheckInterval] in try await Task.sleep(for: changeCheckInterval) }
            } catch {
                break
            }
            sinceFlush += changeCheckInterval
            sinceEviction += changeCheckInterval
            sinceSweep += changeCheckInterval
        }
        await cache.drainWrites()
        await cache.flushHits()
    }
}
