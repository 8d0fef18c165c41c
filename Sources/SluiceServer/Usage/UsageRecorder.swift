import NIOConcurrencyHelpers
import SluiceCore
import DequeModule

/// The in-memory queue of usage rows between the request path and SQLite.
///
/// Recording never blocks. The queue is bounded; when it is full the oldest
/// unwritten row is dropped and counted (exposed in `/metrics` and logged by the
/// flusher), so an overload is visible rather than silent.
final class UsageRecorder: Sendable {
    private struct State {
        var rows = Deque<UsageRecord>()
        var dropped = 0
        var waiter: CheckedContinuation<Void, Never>?
        /// Set by `close()`: waiting ends for good.
        var closed = false
    }

    let capacity: Int
    private let state = NIOLockedValueBox(State())

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    func record(_ row: UsageRecord) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            if state.rows.count >= capacity {
                state.rows.removeFirst()
                state.dropped += 1
            }
            state.rows.append(row)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Takes up to `limit` rows, oldest first.
    func take(limit: Int) -> [UsageRecord] {
        state.withLockedValue { state in
            let count = min(limit, state.rows.count)
            let batch = Array(state.rows.prefix(count))
            state.rows.removeFirst(count)
            return batch
        }
    }

    /// Puts rows back at the front after a failed write, within the bound.
    func putBack(_ rows: [UsageRecord]) {
        state.withLockedValue { state in
            let room = max(0, capacity - state.rows.count)
            let kept = rows.suffix(room)
            state.dropped += rows.count - kept.count
            state.rows.insert(contentsOf: kept, at: 0)
        }
    }

    var depth: Int { state.withLockedValue { $0.rows.count } }
    var droppedCount: Int { state.withLockedValue { $0.dropped } }

    /// Returns when at least one row is queued (or at once if some are, or after `close()`).
    func waitForRows() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLockedValue { state -> Bool in
                if !state.rows.isEmpty || state.closed { return true }
                state.waiter?.resume()
                state.waiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Ends waiting for good (at shutdown): wakes a pending `waitForRows` and makes
    /// later ones return at once, so a flusher that checked for shutdown just before
    /// the signal cannot then wait forever. Recording still works.
    func close() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Wakes a pending `waitForRows`, if any.
    func wake() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}
