import SluiceCore

/// The order of the rows of a stats report, as `StatsAccumulator.report`
/// gives it: time and status groups by label (numbers by value), the others
/// busiest first, then by label.
enum StatsRowOrder {
    static func sorted(_ rows: [StatsRow], for grouping: StatsGrouping) -> [StatsRow] {
        switch grouping {
        case .day, .hour, .status:
            rows.sorted { labelOrder($0.group, $1.group) }
        case .key, .model, .route, .cache:
            rows.sorted { ($0.requests, $1.group) > ($1.requests, $0.group) }
        }
    }

    private static func labelOrder(_ left: String, _ right: String) -> Bool {
        if let l = Int(left), let r = Int(right) { return l < r }
        return left < right
    }
}
