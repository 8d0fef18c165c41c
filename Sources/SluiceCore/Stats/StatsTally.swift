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

    /// The finished row. Percentiles are selected, not sorted for: a report over
    /// a million rows would otherwise spend most of its Swift time sorting.
    func row(group: String) -> StatsRow {
        var latencies = latencies
        let percentiles = NearestRank.percentiles([50, 95], selectingIn: &latencies)
        return StatsRow(
            group: group, requests: requests, cacheHits: cacheHits,
            hitRate: requests == 0 ? 0 : Double(cacheHits) / Double(requests),
            errors: errors, rateLimited: rateLimited,
            promptTokens: promptTokens, completionTokens: completionTokens, tokensSaved: tokensSaved,
            cost: cost, costSaved: costSaved,
            latencyP50Ms: percentiles[0],
            latencyP95Ms: percentiles[1]
        )
    }
}
