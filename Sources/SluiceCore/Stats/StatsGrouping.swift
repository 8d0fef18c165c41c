/// What `sluice stats --by` groups usage rows by.
public enum StatsGrouping: String, Sendable, Equatable, CaseIterable {
    /// Client key id.
    case key
    case model
    case route
    /// UTC calendar day, labelled `2026-11-26`.
    case day
    /// UTC hour, labelled `2026-11-26T05:00Z`.
    case hour
    /// HTTP status code.
    case status
    /// Cache outcome: hit, miss, bypass, coalesced, none.
    case cache

    /// Heading of the group column in a table.
    public var columnTitle: String {
        switch self {
        case .key: "KEY"
        case .model: "MODEL"
        case .route: "ROUTE"
        case .day: "DAY (UTC)"
        case .hour: "HOUR (UTC)"
        case .status: "STATUS"
        case .cache: "CACHE"
        }
    }

    /// Time and status groups read best in their natural order; the others
    /// busiest first.
    var ordersByGroupLabel: Bool {
        switch self {
        case .day, .hour, .status: true
        case .key, .model, .route, .cache: false
        }
    }

    /// Label of rows whose model is unknown (e.g. refused before the body was read).
    public static let noModelLabel = "(none)"
}
