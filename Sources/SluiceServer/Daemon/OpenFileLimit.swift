import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit (`RLIMIT_NOFILE`) and the connection cap
/// that fits in it.
///
/// Each client connection is one descriptor and may hold one upstream
/// connection too, and the daemon needs some for itself (database, event
/// loops, log files): so it wants `2 × maxConnections + 256`. The soft limit
/// is raised to that, no higher than the hard limit. When even the hard limit
/// is too low, the connection cap is lowered to fit instead (and a warning
/// logged), so the daemon refuses connections with a 503 rather than failing
/// to accept them or to open upstream connections.
enum OpenFileLimit {
    /// Descriptors kept for the daemon itself.
    static let reserved: UInt64 = 256

    struct Outcome: Equatable, Sendable {
        /// The soft limit before and after.
        var before: UInt64
        var soft: UInt64
        var hard: UInt64
        /// The connection cap that fits in `soft`.
        var maxConnections: Int
        /// Whether `maxConnections` is less than what was asked for.
        var lowered: Bool
    }

    /// Descriptors `maxConnections` connections need.
    static func needed(forConnections maxConnections: Int) -> UInt64 {
        2 * UInt64(max(maxConnections, 1)) + reserved
    }

    /// The connection cap that fits in a soft limit of `soft` descriptors.
    static func connections(fitting soft: UInt64) -> Int {
        let available = soft > reserved ? (soft - reserved) / 2 : 0
        return Int(clamping: max(available, 1))
    }

    /// What to set, as a pure function: the new soft limit and the cap.
    static func plan(maxConnections: Int, soft: UInt64, hard: UInt64) -> Outcome {
        let needed = needed(forConnections: maxConnections)
        let target = soft >= needed ? soft : min(needed, hard)
        let cap = target >= needed ? maxConnections : min(maxConnections, connections(fitting: target))
        return Outcome(before: soft, soft: target, hard: hard, maxConnections: cap, lowered: cap < maxConnections)
    }

    /// Raises the soft limit as far as `maxConnections` needs and the hard
    /// limit allows; returns what it got. `nil` when the limit cannot be read
    /// (the cap is then left as asked).
    static func raise(toFit maxConnections: Int) -> Outcome? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        var outcome = plan(maxConnections: maxConnections, soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max))
        if outcome.soft != outcome.before {
            var raised = limit
            raised.rlim_cur = rlim_t(outcome.soft)
            if setrlimit(resource, &raised) != 0 {
                // Not allowed (e.g. a seccomp filter): live with what there is.
                outcome = plan(maxConnections: maxConnections, soft: outcome.before, hard: outcome.before)
            }
        }
        return outcome
    }

    /// Raises the limit, logs what it got, and returns the connection cap to use.
    static func fit(maxConnections: Int, logger: Logger) -> Int {
        guard let outcome = raise(toFit: maxConnections) else {
            logger.debug("open-file limit unknown; connection cap left as set", metadata: ["max_connections": "\(maxConnections)"])
            return maxConnections
        }
        logger.debug("open-file limit", metadata: [
            "soft_before": "\(outcome.before)", "soft": "\(outcome.soft)", "hard": "\(outcome.hard)",
            "max_connections": "\(outcome.maxConnections)",
        ])
        if outcome.lowered {
            logger.warning(
                "open-file limit too low for max_connections; serving fewer connections at once",
                metadata: [
                    "max_connections_asked": "\(maxConnections)", "max_connections": "\(outcome.maxConnections)",
                    "open_file_limit": "\(outcome.soft)",
                    "needed": "\(needed(forConnections: maxConnections))",
                    "hint": "raise the hard limit (LimitNOFILE= in the systemd unit, ulimit -Hn)",
                ])
        }
        return outcome.maxConnections
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(UInt32(RLIMIT_NOFILE.rawValue))
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
