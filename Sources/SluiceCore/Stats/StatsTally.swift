/// Running totals of one group; keeps every latency for exact percentiles.
struct StatsTally {
    var requests = 0
    var cacheHits = 0
    var errors = 0
    var rateLimited = 0
    var promptTokens = 0
    var completionTokens = 0
    var tokensSaved = 0
    var cost = 0.0
    var costSaved = 0.0
    var latencies: [Double] = []

    mutating func add(_ sample: StatsSample) {
        requests += 1
        if sample.isCacheHit { cacheHits += 1 }
        if sample.status == 429 {
            rateLimited += 1
        } else if sample.status >= 400 {
            errors += 1
        }
        promptTokens += sample.promptTokens
        completionTokens += sample.completionTokens
        tokensSaved += sample.tokensSaved
        cost += sample.cost
        costSaved += sample.costSaved
        latencies.append(sample.latencyMs)
    }

    mutating func merge(_ other: StatsTally) {
        requests += other.requests
        cacheHits += other.cacheHits
        errors += other.errors
        rateLimited += other.rateLimited
        promptTokens += other.promptTokens
        completionTokens += other.completionTokens
        tokensSaved += other.tokensSaved
        cost += other.cost
        costSaved += other.costSaved
        latencies.append(contentsOf: other.latencies)
    }

    /// The finished row.
    func row(group: String) -> StatsRow {
        let latencies = latencies.sorted()
        return StatsRow(
            group: group, requests: requests, cacheHits: cacheHits,
            hitRate: requests == 0 ? 0 : Double(cacheHits) / Double(requests),
            errors: errors, rateLimited: rateLimited,
            promptTokens: promptTokens, completionTokens: completionTokens, tokensSaved: tokensSaved,
            cost: cost, costSaved: costSaved,
            latencyP50Ms: NearestRank.percentile(50, ofSorted: latencies),
            latencyP95Ms: NearestRank.percentile(95, ofSorted: latencies)
        )
    }
}

/// Nearest-rank percentiles: the smallest value with at least p% of values at or below it.
public enum NearestRank {
    /// The `percent`th percentile of ascending `sorted` values; 0 when empty.
    public static func percentile(_ percent: Int, ofSorted sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let clamped = min(max(percent, 0), 100)
        let rank = max((clamped * sorted.count + 99) / 100, 1)
        return sorted[rank - 1]
    }
}
