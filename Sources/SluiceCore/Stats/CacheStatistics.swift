/// What `sluice cache stats` reports.
public struct CacheStatistics: Sendable, Equatable {
    /// Totals of the entries for one model.
    public struct Model: Sendable, Equatable {
        /// nil for entries stored without a model (e.g. a route with no `model` field).
        public var model: String?
        public var entries: Int
        public var bodyBytes: Int
        public var hits: Int

        public init(model: String?, entries: Int, bodyBytes: Int, hits: Int) {
            self.model = model
            self.entries = entries
            self.bodyBytes = bodyBytes
            self.hits = hits
        }
    }

    public var entries: Int
    /// Sum of stored body sizes: what `cache.max_size` bounds.
    public var bodyBytes: Int
    public var totalHits: Int
    /// Creation time (unix seconds) of the oldest entry; nil when empty.
    public var oldestCreatedAt: Double?
    public var newestCreatedAt: Double?
    /// Largest first.
    public var models: [Model]

    public init(
        entries: Int, bodyBytes: Int, totalHits: Int, oldestCreatedAt: Double?, newestCreatedAt: Double?,
        models: [Model]
    ) {
        self.entries = entries
        self.bodyBytes = bodyBytes
        self.totalHits = totalHits
        self.oldestCreatedAt = oldestCreatedAt
        self.newestCreatedAt = newestCreatedAt
        self.models = models
    }
}
