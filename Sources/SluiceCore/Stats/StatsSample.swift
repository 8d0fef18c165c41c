/// What one usage row contributes to a stats group.
public struct StatsSample: Sendable, Equatable {
    public var status: Int
    public var isCacheHit: Bool
    public var promptTokens: Int
    public var completionTokens: Int
    public var tokensSaved: Int
    public var cost: Double
    public var costSaved: Double
    public var latencyMs: Double

    public init(
        status: Int, isCacheHit: Bool, promptTokens: Int = 0, completionTokens: Int = 0,
        tokensSaved: Int = 0, cost: Double = 0, costSaved: Double = 0, latencyMs: Double
    ) {
        self.status = status
        self.isCacheHit = isCacheHit
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.tokensSaved = tokensSaved
        self.cost = cost
        self.costSaved = costSaved
        self.latencyMs = latencyMs
    }
}

extension CacheOutcome {
    /// Whether a request with this outcome counts as a cache hit in stats: answered
    /// from the cache (fresh or, the upstream failing, stale), or sharing an
    /// identical request's answer (no upstream call of its own either way).
    public var countsAsCacheHit: Bool {
        self == .hit || self == .coalesced || self == .stale
    }
}
