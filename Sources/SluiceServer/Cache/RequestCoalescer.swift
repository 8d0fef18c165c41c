import NIOConcurrencyHelpers
import SluiceCore

/// Lets identical requests in flight share one upstream call ("single flight").
///
/// The first caller for a key becomes the leader and its `work` runs in a task
/// of its own, so a leader whose client hangs up does not cancel the call that
/// the others wait for. Every caller, leader included, then waits for that
/// result; a cancelled waiter stops waiting at once without disturbing the
/// rest. When the work fails, every waiter gets the failure: nobody hangs.
final class RequestCoalescer<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    enum Role: Sendable, Equatable {
        case leader
        case follower
    }

    typealias Outcome = Result<Value, SluiceError>

    private struct Flight {
        var waiters: [Int: CheckedContinuation<Outcome, Never>] = [:]
    }

    private struct State {
        var flights: [Key: Flight] = [:]
        var nextWaiterID = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Runs `work` once for all concurrent callers with the same key.
    ///
    /// A caller joins (or opens) a flight and registers as its waiter in one
    /// step under the lock, so a flight that lands at once still reaches every
    /// caller that joined it. A caller already cancelled joins nothing.
    ///
    /// - Parameter executorPreference: where the shared call runs (the leader's
    ///   event loop, say); nil for the default executor.
    func run(
        key: Key, executorPreference: (any TaskExecutor)? = nil, work: @escaping @Sendable () async -> Outcome
    ) async -> (outcome: Outcome, role: Role) {
        let waiterID = state.withLockedValue { state -> Int in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        var role = Role.follower
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let joined = state.withLockedValue { state -> Role? in
                    guard !Task.isCancelled else { return nil }
                    if state.flights[key] != nil {
                        state.flights[key]?.waiters[waiterID] = continuation
                        return .follower
                    }
                    state.flights[key] = Flight(waiters: [waiterID: continuation])
                    return .leader
                }
                switch joined {
                case nil:
                    continuation.resume(returning: .failure(.clientClosed))
                case .follower:
                    role = .follower
                case .leader:
                    role = .leader
                    // Not a child of this request: the leader's client may go while others wait.
                    Task(executorPreference: executorPreference) { [self] in
                        let outcome = await work()
                        land(key: key, outcome: outcome)
                    }
                }
            }
        } onCancel: {
            let continuation = state.withLockedValue { $0.flights[key]?.waiters.removeValue(forKey: waiterID) }
            continuation?.resume(returning: .failure(.clientClosed))
        }
        return (outcome, role)
    }

    /// How many callers wait on the flight for `key` (for tests and diagnostics).
    func waiterCount(for key: Key) -> Int {
        state.withLockedValue { $0.flights[key]?.waiters.count ?? 0 }
    }

    private func land(key: Key, outcome: Outcome) {
        let waiters = state.withLockedValue { $0.flights.removeValue(forKey: key)?.waiters ?? [:] }
        for continuation in waiters.values { continuation.resume(returning: outcome) }
    }

    /// Keys with a call in flight.
    var inFlightCount: Int { state.withLockedValue { $0.flights.count } }
}

extension SluiceError {
    /// The client went away before its answer was ready (nginx's 499).
    static let clientClosed = SluiceError(
        status: 499, type: "client_closed", code: "client_closed", message: "The client closed the connection.")
}
