import SluiceCore

/// Which usage rows a stats report covers and how it groups them.
public struct StatsQuery: Sendable, Equatable {
    /// Unix seconds, inclusive; nil means from the first row.
    public var since: Double?
    /// Unix seconds, exclusive; nil means up to the last row.
    public var until: Double?
    public var grouping: StatsGrouping
    /// Only rows of this client key id.
    public var keyID: String?
    /// Only rows of this model.
    public var model: String?

    public init(
        since: Double? = nil, until: Double? = nil, grouping: StatsGrouping = .model,
        keyID: String? = nil, model: String? = nil
    ) {
        self.since = since
        self.until = until
        self.grouping = grouping
        self.keyID = keyID
        self.model = model
    }
}
