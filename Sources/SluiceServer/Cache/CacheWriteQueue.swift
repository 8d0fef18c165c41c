import NIOConcurrencyHelpers
import SluiceStore

/// Writes stored answers to the cache's backend behind the request path, many
/// per transaction.
///
/// A miss must not wait for its answer to reach the disk: the answer is served
/// (and kept in the memory front) at once, and queued here. The first answer
/// queued starts a writer task; answers queued while it writes
/// go in its next transaction, so under load one commit carries many answers
/// (a commit per answer cost more CPU than the rest of a miss). The queue is
/// bounded: past `maxPendingBytes` an answer is not cached, and that is logged.
/// Failures go to the `HealthMonitor`, which logs them once per interval.
final class CacheWriteQueue: Sendable {
    private struct State {
        var pending: [CachedResponse] = []
        var pendingBytes = 0
        /// A writer runs, or is about to.
        var writing = false
        var droppedSinceLastLog = 0
    }

    private let backend: any CacheBackend
    private let health: HealthMonitor
    private let maxPendingBytes: Int
    private let state = NIOLockedValueBox(State())

    init(backend: any CacheBackend, health: HealthMonitor, maxPendingBytes: Int = 64 << 20) {
        self.backend = backend
        self.health = health
        self.maxPendingBytes = maxPendingBytes
    }

    /// Queues `entry`; returns false when the queue is full and the entry was dropped.
    @discardableResult
    func enqueue(_ entry: CachedResponse) -> Bool {
        let (accepted, startWriter) = state.withLockedValue { state -> (Bool, Bool) in
            guard state.pendingBytes + entry.body.count <= maxPendingBytes else {
                state.droppedSinceLastLog += 1
                return (false, false)
            }
            state.pending.append(entry)
            state.pendingBytes += entry.body.count
            defer { state.writing = true }
            return (true, !state.writing)
        }
        if startWriter {
            Task { [self] in await writeUntilEmpty() }
        }
        return accepted
    }

    /// Answers queued and not yet written.
    var pendingCount: Int { state.withLockedValue { $0.pending.count } }

    /// Writes everything queued before returning (shutdown). Waits for a writer
    /// already running rather than racing it, so answers land in queue order.
    func drain() async {
        while true {
            // nil: nothing left; true: this call claimed the writer; false: one is running.
            let claimed = state.withLockedValue { state -> Bool? in
                if state.writing { return false }
                if state.pending.isEmpty { return nil }
                state.writing = true
                return true
            }
            switch claimed {
            case nil:
                return
            case true?:
                await writeUntilEmpty()
            case false?:
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
    }

    /// Runs in one task at a time (guarded by `writing`).
    private func writeUntilEmpty() async {
        while true {
            let (batch, dropped) = state.withLockedValue { state -> ([CachedResponse], Int) in
                let batch = state.pending
                let dropped = state.droppedSinceLastLog
                state.pending.removeAll(keepingCapacity: true)
                state.pendingBytes = 0
                state.droppedSinceLastLog = 0
                if batch.isEmpty { state.writing = false }
                return (batch, dropped)
            }
            if dropped > 0 {
                health.failed(.cacheQueueFull, error: "\(dropped) answers over \(maxPendingBytes) bytes pending", count: dropped)
            } else if !batch.isEmpty {
                health.succeeded(.cacheQueueFull)
            }
            guard !batch.isEmpty else { return }
            do {
                try await backend.store(batch)
                health.succeeded(.cacheStore)
            } catch {
                health.failed(.cacheStore, error: error, metadata: ["answers": "\(batch.count)"])
            }
        }
    }
}
