import Logging
import ServiceLifecycle
import SluiceCore

/// Keeps the cache bounded and its bookkeeping current: writes hit counters
/// every second, sweeps expired entries and evicts past the size cap every
/// minute, and updates the cache gauges.
struct CacheMaintenanceService: Service {
    let cache: ResponseCache
    let maxBytes: Int
    let metrics: SluiceMetrics
    var hitFlushInterval = Duration.seconds(1)
    var sweepInterval = Duration.seconds(60)

    func run() async throws {
        var sinceSweep = sweepInterval  // sweep once at start
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if sinceSweep >= sweepInterval {
                await cache.sweep(maxBytes: maxBytes)
                if let statistics = await cache.statistics() {
                    metrics.setCache(entries: statistics.entries, bytes: statistics.bodyBytes)
                }
                sinceSweep = .zero
            }
            await cache.flushHits()
            await cache.dropMemoryIfChangedElsewhere()
            do {
                try await cancelWhenGracefulShutdown { [hitFlushInterval] in try await Task.sleep(for: hitFlushInterval) }
            } catch {
                break
            }
            sinceSweep += hitFlushInterval
        }
        await cache.flushHits()
    }
}
