import SluiceCore

/// `sluice stats` reports over the usage rows.
///
/// Every store gives the same report for the same rows: the groups, their
/// order and labels, and the definitions `StatsReporter` documents (errors,
/// rate-limited, cache hits, tokens saved, nearest-rank latency percentiles).
public protocol UsageStatsStorage: Sendable {
    func report(_ query: StatsQuery) async throws -> StatsReport
}
