import Logging
import NIOPosix
import ServiceLifecycle
import SluiceCore
import SluiceStore

/// Writes queued usage rows to SQLite in batches, one transaction each, and
/// prunes rows past retention: once at start, then at most once per
/// `pruneInterval` while rows keep coming.
///
/// It comes before the listeners in the daemon's group, so it is shut down after them:
/// after the listeners have drained and every answered request has queued its
/// row, it writes what is left and returns. Nothing is lost on a clean stop.
struct UsageFlushService: Service {
    let recorder: UsageRecorder
    let store: any UsageRowStorage
    let clock: any WallClock
    let retention: Duration
    let metrics: SluiceMetrics
    let health: HealthMonitor
    let logger: Logger
    /// Rows per transaction.
    var batchSize = 2_000
    /// Pause after waking so a batch can build up under load.
    var gatherDelay = Duration.milliseconds(100)
    var pruneInterval = Duration.seconds(3600)

    func run() async throws {
        let stopping = StopFlag()
        var reportedDrops = 0
        await withGracefulShutdownHandler {
            // At start, before any request: rows past retention go even if none comes.
            await prune()
            var lastPrune = ContinuousClock.now
            while !stopping.isSet {
                await recorder.waitForRows()
                try? await Task.sleep(for: gatherDelay)
                await writeQueuedRows()
                reportedDrops = reportDrops(since: reportedDrops)
                if ContinuousClock.now - lastPrune > pruneInterval {
                    await prune()
                    lastPrune = .now
                }
            }
        } onGracefulShutdown: {
            stopping.set()
            recorder.close()
        }
        await writeQueuedRows()
        _ = reportDrops(since: reportedDrops)
        logger.debug("usage rows flushed at shutdown")
    }

    /// Writes everything queued now, batch by batch.
    func writeQueuedRows() async {
        while true {
            let batch = recorder.take(limit: batchSize)
            metrics.setUsageQueueDepth(recorder.depth)
            guard !batch.isEmpty else { return }
            do {
                try await store.insert(batch)
                metrics.recordUsageRowsWritten(batch.count)
                health.succeeded(.usageWrite)
                health.succeeded(.usageQueueFull)
            } catch {
                health.failed(.usageWrite, error: error, metadata: ["rows": "\(batch.count)"])
                recorder.putBack(batch)
                try? await Task.sleep(for: .seconds(1))
                return
            }
        }
    }

    private func reportDrops(since reported: Int) -> Int {
        let dropped = recorder.droppedCount
        if dropped > reported {
            metrics.recordUsageRowsDropped(dropped - reported)
            health.failed(.usageQueueFull, error: "\(dropped - reported) rows dropped", count: dropped - reported,
                          metadata: ["dropped_total": "\(dropped)"])
        }
        return dropped
    }

    private func prune() async {
        let cutoff = clock.now() - retention.inSeconds
        do {
            let pruned = try await store.prune(olderThan: cutoff)
            if pruned > 0 { logger.info("usage rows past retention pruned", metadata: ["rows": "\(pruned)"]) }
            health.succeeded(.usagePrune)
        } catch {
            health.failed(.usagePrune, error: error)
        }
    }
}

/// A flag set once from another task.
final class StopFlag: Sendable {
    private let flag = NIOLockedValueBoxBool()
    func set() { flag.set() }
    var isSet: Bool { flag.value }
}
