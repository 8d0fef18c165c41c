import NIOConcurrencyHelpers

/// Runs `operation`, giving up after `limit`: then `onTimeout` runs (to close
/// what the operation waits on, so that it ends at once), the operation's task
/// is cancelled, and `PostgresDeadlinePassed` is thrown once the operation has
/// ended, or after `grace` if it has not.
///
/// The caller never waits longer than `limit + grace`: an operation that
/// ignores cancellation (a connection attempt to a server that accepts and
/// then says nothing) cannot hold it up. Such an operation ends in the
/// background when what it waits on fails. Waiting for the usual one to end
/// first hands its pooled connection back before the caller goes on.
func withPostgresDeadline<T: Sendable>(
    _ limit: Duration, grace: Duration = .seconds(1), onTimeout: @escaping @Sendable () -> Void = {},
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.begin(continuation)
            let work = Task {
                do {
                    race.finish(.success(try await operation()))
                } catch {
                    race.finish(.failure(error))
                }
                race.markWorkEnded()
            }
            let timer = Task {
                do {
                    try await Task.sleep(for: limit)
                } catch {
                    return  // the operation finished first
                }
                guard race.claimTimeout() else { return }
                onTimeout()
                work.cancel()
                let waitUntil = ContinuousClock.now + grace
                while !race.workEnded, ContinuousClock.now < waitUntil {
                    try? await Task.sleep(for: .milliseconds(5))
                }
                race.resumeTimedOut()
            }
            race.attach(work: work, timer: timer)
        }
    } onCancel: {
        race.cancelWork()
    }
}

/// An operation run by `withPostgresDeadline` did not end in time.
struct PostgresDeadlinePassed: Error {}

/// Whichever of the operation and its deadline comes first resumes the caller, once.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        var finished = false
        var cancelled = false
        var workEnded = false
    }

    private let state = NIOLockedValueBox(State())

    func begin(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLockedValue { $0.continuation = continuation }
    }

    func attach(work: Task<Void, Never>, timer: Task<Void, Never>) {
        let (finished, cancelled) = state.withLockedValue { state -> (Bool, Bool) in
            state.work = work
            state.timer = timer
            return (state.finished, state.cancelled)
        }
        if finished { timer.cancel() }
        if cancelled { work.cancel() }
    }

    /// Resumes the caller with `result` unless it was resumed already; true when this call did.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (continuation, timer) = state.withLockedValue { state -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?) in
            guard !state.finished else { return (nil, nil) }
            state.finished = true
            defer { state.continuation = nil }
            return (state.continuation, state.timer)
        }
        guard let continuation else { return false }
        timer?.cancel()
        continuation.resume(with: result)
        return true
    }

    /// The deadline passed first: the caller will get `PostgresDeadlinePassed`
    /// (`resumeTimedOut`), not the operation's result. False when the operation finished first.
    func claimTimeout() -> Bool {
        state.withLockedValue { state in
            guard !state.finished else { return false }
            state.finished = true
            return true
        }
    }

    func resumeTimedOut() {
        let continuation = state.withLockedValue { state in
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(throwing: PostgresDeadlinePassed())
    }

    func markWorkEnded() {
        state.withLockedValue { $0.workEnded = true }
    }

    var workEnded: Bool { state.withLockedValue { $0.workEnded } }

    /// The caller's task was cancelled: so is the operation.
    func cancelWork() {
        let work = state.withLockedValue { state -> Task<Void, Never>? in
            state.cancelled = true
            return state.work
        }
        work?.cancel()
    }
}
