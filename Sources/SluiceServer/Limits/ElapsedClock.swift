/// A monotonic clock reduced to what the rate limiter needs: time elapsed since
/// it was made, and sleeping. Wraps any `Clock` measured in `Duration`.
struct ElapsedClock: Sendable {
    /// Time since this value was made.
    let now: @Sendable () -> Duration
    /// Sleeps for a duration; throws `CancellationError` when the task is cancelled.
    let sleep: @Sendable (Duration) async throws -> Void

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        self.now = { origin.duration(to: clock.now) }
        self.sleep = { duration in try await clock.sleep(for: duration) }
    }
}
