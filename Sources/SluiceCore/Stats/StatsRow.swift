/// Usage totals of one group in a stats report.
public struct StatsRow: Sendable, Equatable {
    public var group: String
    public var requests: Int
    /// Requests answered without their own upstream call: outcome `hit` or `coalesced`.
    public var cacheHits: Int
    /// `cacheHits / requests` as a fraction (0...1); 0 for an empty group.
    public var hitRate: Double
    /// Status 400 and above, except 429.
    public var errors: Int
    /// Status 429.
    public var rateLimited: Int
    public var promptTokens: Int
    public var completionTokens: Int
    /// Total tokens that cache hits did not spend upstream.
    public var tokensSaved: Int
    /// USD spent upstream.
    public var cost: Double
    /// USD that cache hits did not spend.
    public var costSaved: Double
    /// Nearest-rank 50th percentile of request latency (arrival to last byte).
    public var latencyP50Ms: Double
    /// Nearest-rank 95th percentile of request latency.
    public var latencyP95Ms: Double

    public init(
        group: String, requests: Int, cacheHits: Int, hitRate: Double, errors: Int, rateLimited: Int,
        promptTokens: Int, completionTokens: Int, tokensSaved: Int, cost: Double, costSaved: Double,
        latencyP50Ms: Double, latencyP95Ms: Double
    ) {
        self.group = group
        self.requests = requests
        self.cacheHits = cacheHits
        self.hitRate = hitRate
        self.errors = errors
        self.rateLimited = rateLimited
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.tokensSaved = tokensSaved
        self.cost = cost
        self.costSaved = costSaved
        self.latencyP50Ms = latencyP50Ms
        self.latencyP95Ms = latencyP95Ms
    }
}

/// A stats report: one row per group plus a totals row over all of them.
public struct StatsReport: Sendable, Equatable {
    public var grouping: StatsGrouping
    public var rows: [StatsRow]
    /// Totals over every row; its group is `"total"`. Percentiles are exact over all requests.
    public var totals: StatsRow

    public init(grouping: StatsGrouping, rows: [StatsRow], totals: StatsRow) {
        self.grouping = grouping
        self.rows = rows
        self.totals = totals
    }

    public var isEmpty: Bool { rows.isEmpty }
}
