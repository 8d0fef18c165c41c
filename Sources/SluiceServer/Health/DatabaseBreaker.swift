import Synchronization

/// Fleet mode: once PostgreSQL has failed on the request path, requests stop
/// asking it for `coolDown` (limits use this daemon's own buckets, lookups go
/// past the shared cache), so an outage costs one timeout, not one per
/// request. After the cool-down the next request tries again.
final class DatabaseBreaker: Sendable {
    private let openUntil = Mutex<ContinuousClock.Instant?>(nil)
    let coolDown: Duration

    init(coolDown: Duration = .seconds(5)) {
        self.coolDown = coolDown
    }

    /// Whether the request path may ask the database now.
    var allowsRequests: Bool {
        openUntil.withLock { until in until.map { ContinuousClock.now >= $0 } ?? true }
    }

    func failed() {
        openUntil.withLock { $0 = .now + coolDown }
    }

    func succeeded() {
        openUntil.withLock { $0 = nil }
    }
}

/// What a request-path call gets while the breaker is open.
struct DatabaseUnavailable: Error, CustomStringConvertible {
    var description: String { "PostgreSQL failed a moment ago; not asked again until the cool-down ends" }
}
