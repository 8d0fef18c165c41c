import Logging
import ServiceLifecycle
import SluiceCore

/// Keeps the cache bounded and its bookkeeping current, on three beats:
/// - every `changeCheckInterval` (100 ms): drop the in-memory front if another
///   process (`sluice cache purge`) wrote the database;
/// - every second: write hit counters, evict past `max_size`, update the gauges;
/// - every minute (and at start): delete expired entries.
struct CacheMaintenanceService: Service {
    let cache: ResponseCache
    let maxBytes: Int
    let metrics: SluiceMetrics
    var changeCheckInterval = Duration.milliseconds(100)
    var hitFlushInterval = Duration.seconds(1)
    var sweepInterval = Duration.seconds(60)

    func run() async throws {
        var sinceSweep = sweepInterval  // sweep once at start
        var sinceFlush = hitFlushInterval  // gauges at once
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            await cache.dropMemoryIfChangedElsewhere()
            if sinceFlush >= hitFlushInterval {
                await cache.flushHits()
                await cache.evict(toFit: maxBytes)
                if let totals = await cache.totals() {
                    metrics.setCache(entries: totals.entries, bytes: totals.bodyBytes)
                }
                sinceFlush = .zero
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
            sinceSweep += changeCheckInterval
        }
        await cache.flushHits()
    }
}
