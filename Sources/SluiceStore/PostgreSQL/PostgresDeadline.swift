/// Runs `operation`, giving up after `limit`: then `onTimeout` runs (to close
/// what the operation waits on, so that it ends at once), the operation's task
/// is cancelled, and `PostgresDeadlinePassed` is thrown.
func withPostgresDeadline<T: Sendable>(
    _ limit: Duration, onTimeout: @escaping @Sendable () -> Void = {},
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: DeadlineRace<T>.self) { group in
        group.addTask { .finished(try await operation()) }
        group.addTask {
            try await Task.sleep(for: limit)
            return .passed
        }
        defer { group.cancelAll() }
        switch try await group.next() {
        case .finished(let value):
            return value
        case .passed, nil:
            onTimeout()
            throw PostgresDeadlinePassed()
        }
    }
}

/// An operation run by `withPostgresDeadline` did not end in time.
struct PostgresDeadlinePassed: Error {}

/// Which of an operation and its deadline came first.
private enum DeadlineRace<T: Sendable>: Sendable {
    case finished(T)
    case passed
}
