/// Folds usage samples into per-group rows and a totals row.
///
/// `Group` is whatever identifies a group cheaply while scanning (a model name,
/// an hour number); `label` turns it into text once per group at the end.
public struct StatsAccumulator<Group: Hashable> {
    private var tallies: [Group: StatsTally] = [:]

    public init() {}

    public mutating func add(_ sample: StatsSample, to group: Group) {
        tallies[group, default: StatsTally()].add(sample)
    }

    /// The report, rows ordered as suits `grouping` (time and status ascending,
    /// otherwise most requests first).
    public func report(grouping: StatsGrouping, label: (Group) -> String) -> StatsReport {
        var total = StatsTally()
        var rows: [StatsRow] = []
        rows.reserveCapacity(tallies.count)
        for (group, tally) in tallies {
            total.merge(tally)
            rows.append(tally.row(group: label(group)))
        }
        if grouping.ordersByGroupLabel {
            rows.sort { Self.labelOrder($0.group, $1.group) }
        } else {
            rows.sort { ($0.requests, $1.group) > ($1.requests, $0.group) }
        }
        return StatsReport(grouping: grouping, rows: rows, totals: total.row(group: "total"))
    }

    /// Numeric labels (status codes) by value, others as text; ISO dates sort as text.
    private static func labelOrder(_ left: String, _ right: String) -> Bool {
        if let l = Int(left), let r = Int(right) { return l < r }
        return left < right
    }
}
