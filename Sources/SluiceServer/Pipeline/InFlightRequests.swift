import NIOConcurrencyHelpers

/// The requests being answered, so that shutdown can wait for them and, at
/// the shutdown timeout, cut those still running: their tasks are cancelled,
/// they answer 503 (or cut a stream) and still record their usage rows.
final class InFlightRequests: Sendable {
    private struct State {
        var nextID = 0
        var running: [Int: Task<Void, Never>] = [:]
        /// Begun but not yet attached to their task.
        var starting: Set<Int> = []
        var cutting = false
    }

    private let state = NIOLockedValueBox(State())

    /// Counts a request in before its task exists.
    func begin() -> Int {
        state.withLockedValue { state in
            state.nextID += 1
            state.starting.insert(state.nextID)
            return state.nextID
        }
    }

    /// The task answering request `id`; ignored when it has already ended.
    func attach(_ task: Task<Void, Never>, to id: Int) {
        let cancelNow = state.withLockedValue { state -> Bool in
            guard state.starting.remove(id) != nil else { return false }
            state.running[id] = task
            return state.cutting
        }
        if cancelNow { task.cancel() }
    }

    func end(_ id: Int) {
        state.withLockedValue { state in
            state.starting.remove(id)
            state.running[id] = nil
        }
    }

    var count: Int { state.withLockedValue { $0.running.count + $0.starting.count } }

    /// Whether `cutAll` was called: a cancelled request then answers "shutting down".
    var isCutting: Bool { state.withLockedValue { $0.cutting } }

    /// Cancels every request still running, and any that attaches later.
    func cutAll() {
        let tasks = state.withLockedValue { state in
            state.cutting = true
            return Array(state.running.values)
        }
        for task in tasks { task.cancel() }
    }
}

/// Counts things that must end before shutdown goes on (listeners closing).
final class ActiveRequestCounter: Sendable {
    private let count = NIOLockedValueBox(0)

    func increment() { count.withLockedValue { $0 += 1 } }
    func decrement() { count.withLockedValue { $0 -= 1 } }
    var value: Int { count.withLockedValue { $0 } }
}

