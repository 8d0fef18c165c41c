import Logging

/// A part of the daemon whose failures `/healthz` reports.
enum HealthComponent: String, CaseIterable, Sendable {
    case database
    case upstream
}

/// What kind of operation failed. Failures of one kind are logged together
/// (see `FailureThrottle`); the set is closed, so it is also a bounded
/// `kind` label for `sluice_failures_total`.
enum FailureKind: String, CaseIterable, Sendable {
    case cacheStore = "cache_store"
    case cacheQueueFull = "cache_queue_full"
    case cacheLookup = "cache_lookup"
    case cacheHitFlush = "cache_hit_flush"
    case cacheCheckpoint = "cache_checkpoint"
    case cacheSweep = "cache_sweep"
    case cacheEviction = "cache_eviction"
    case cacheChangeCheck = "cache_change_check"
    case usageWrite = "usage_write"
    case usageQueueFull = "usage_queue_full"
    case usagePrune = "usage_prune"
    case upstreamConnect = "upstream_connect"
    /// Fleet mode: the shared rate-limit buckets could not be reached.
    case sharedLimits = "shared_limits"
    /// Fleet mode: the other daemons' spend could not be read.
    case sharedSpend = "shared_spend"

    var component: HealthComponent {
        self == .upstreamConnect ? .upstream : .database
    }

    /// The log line's text when this kind fails.
    var message: Logger.Message {
        switch self {
        case .cacheStore: "cache store failed; answers served but not cached"
        case .cacheQueueFull: "cache write queue full; answers served but not cached"
        case .cacheLookup: "cache lookup failed; answering from upstream"
        case .cacheHitFlush: "could not record cache hits"
        case .cacheCheckpoint: "could not checkpoint the database"
        case .cacheSweep: "cache sweep failed"
        case .cacheEviction: "cache eviction failed"
        case .cacheChangeCheck: "could not check the database for outside changes"
        case .usageWrite: "could not write usage rows; will retry"
        case .usageQueueFull: "usage queue full: rows dropped"
        case .usagePrune: "usage pruning failed"
        case .upstreamConnect: "upstream unreachable"
        case .sharedLimits: "shared rate limits unreachable; limiting with this daemon's own buckets"
        case .sharedSpend: "could not read the fleet's budget spend; budgets count this daemon's spend only"
        }
    }

    var level: Logger.Level {
        switch self {
        case .cacheHitFlush, .cacheCheckpoint, .cacheChangeCheck, .cacheQueueFull, .upstreamConnect, .sharedLimits, .sharedSpend: .warning
        default: .error
        }
    }

    /// One bit per kind, for the monitor's lock-free "anything failing?" check.
    var bit: UInt32 {
        UInt32(1) << UInt32(Self.allCases.firstIndex(of: self)!)
    }
}
