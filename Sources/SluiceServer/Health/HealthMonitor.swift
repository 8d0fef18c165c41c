import Logging
import NIOConcurrencyHelpers
import Synchronization

/// Where the daemon's parts report failures and successes of their storage
/// and upstream operations: it logs them without flooding (`FailureThrottle`),
/// counts them in `sluice_failures_total`, and answers `/healthz`
/// (`ComponentHealth`). Thread-safe; reporting a success while nothing of that
/// kind is failing is one atomic load, cheap enough for the request path.
final class HealthMonitor: Sendable {
    private struct State: Sendable {
        var throttle: FailureThrottle
        var components: ComponentHealth
    }

    private let state: NIOLockedValueBox<State>
    /// One bit per `FailureKind` that has failed since its last success.
    private let failingKinds = Atomic<UInt32>(0)
    private let logger: Logger
    private let metrics: SluiceMetrics?
    private let now: @Sendable () -> Duration

    /// - Parameters:
    ///   - logInterval: failures of one kind within this long of its last line are only counted.
    ///   - forgetAfter: a component stops being reported failing when it has not failed for this long.
    ///   - now: time elapsed on a monotonic clock (tests pass a manual one).
    init(
        logger: Logger, metrics: SluiceMetrics? = nil,
        logInterval: Duration = .seconds(30), forgetAfter: Duration = .seconds(60),
        now: @escaping @Sendable () -> Duration = ElapsedClock(ContinuousClock()).now
    ) {
        self.state = NIOLockedValueBox(State(
            throttle: FailureThrottle(interval: logInterval), components: ComponentHealth(forgetAfter: forgetAfter)))
        self.logger = logger
        self.metrics = metrics
        self.now = now
    }

    /// Reports a failure; `count` > 1 when it stands for several (answers dropped at once).
    func failed(_ kind: FailureKind, error: String, count: Int = 1, metadata: Logger.Metadata = [:]) {
        let now = now()
        let line = state.withLockedValue { state in
            state.components.failure(kind, at: now)
            let line = state.throttle.failure(kind, error: error, count: count, at: now)
            failingKinds.bitwiseOr(kind.bit, ordering: .relaxed)
            return line
        }
        metrics?.recordFailure(kind: kind.rawValue, count: count)
        if let line { log(line, metadata: metadata) }
    }

    func failed(_ kind: FailureKind, error: any Error, count: Int = 1, metadata: Logger.Metadata = [:]) {
        failed(kind, error: String(describing: error), count: count, metadata: metadata)
    }

    /// Reports a success: ends a failure episode of `kind` (one "recovered" line).
    func succeeded(_ kind: FailureKind) {
        guard failingKinds.load(ordering: .relaxed) & kind.bit != 0 else { return }
        let now = now()
        let line = state.withLockedValue { state in
            state.components.success(kind)
            failingKinds.bitwiseAnd(~kind.bit, ordering: .relaxed)
            return state.throttle.success(kind, at: now)
        }
        if let line { log(line, metadata: [:]) }
    }

    /// An upstream connection failed (the request got 502 unreachable).
    func upstreamFailed(_ description: String) {
        failed(.upstreamConnect, error: description)
    }

    /// An upstream call got an answer.
    func upstreamSucceeded() {
        succeeded(.upstreamConnect)
    }

    /// Logs the counts of failures that no later failure has carried into a line
    /// for a whole interval (called on the maintenance beat).
    func logDueSummaries() {
        let now = now()
        let lines = state.withLockedValue { $0.throttle.dueSummaries(at: now) }
        for line in lines { log(line, metadata: [:]) }
    }

    /// The components failing now.
    var failingComponents: [HealthComponent] {
        let now = now()
        return state.withLockedValue { $0.components.failing(at: now) }
    }

    /// The `/healthz` body, e.g. `{"status":"ok"}` or `{"status":"ok","database":"failing"}`.
    var healthzBody: String {
        guard failingKinds.load(ordering: .relaxed) != 0 else { return ComponentHealth.body(failing: []) }
        return ComponentHealth.body(failing: failingComponents)
    }

    private func log(_ line: FailureThrottle.Line, metadata extra: Logger.Metadata) {
        switch line {
        case .first(let kind, let error, let count):
            var metadata = extra
            metadata["kind"] = "\(kind.rawValue)"
            metadata["error"] = "\(error)"
            if count > 1 { metadata["count"] = "\(count)" }
            logger.log(level: kind.level, kind.message, metadata: metadata)
        case .repeated(let kind, let error, let count, let failingFor):
            var metadata = extra
            metadata["kind"] = "\(kind.rawValue)"
            metadata["error"] = "\(error)"
            metadata["repeated"] = "\(count)"
            metadata["failing_for"] = "\(Self.seconds(failingFor))s"
            logger.log(level: kind.level, kind.message, metadata: metadata)
        case .recovered(let kind, let failures, let failedFor):
            logger.info("recovered", metadata: [
                "kind": "\(kind.rawValue)", "failures": "\(failures)", "failed_for": "\(Self.seconds(failedFor))s",
            ])
        }
    }

    private static func seconds(_ duration: Duration) -> Int64 {
        duration.components.seconds
    }
}
