/// Folds usage samples into per-group rows and a totals row.
///
/// A group is a number that is cheap to find while scanning (a status, an hour
/// number, the index of an interned model name); `label` turns it into text once
/// per group at the end. Not generic on purpose: called once per row from another
/// module, a generic accumulator would run unspecialized there (metadata lookups
/// and reference counting on every row).
public struct StatsAccumulator: Sendable {
    /// Where each group's tally is in `tallies`.
    private var slots: [Int: Int] = [:]
    /// The groups met so far, in the order first met.
    public private(set) var groups: [Int] = []
    private var tallies: [StatsTally] = []

    public init() {}

    public mutating func add(_ sample: StatsSample, to group: Int) {
        let slot = slot(for: group)
        tallies[slot].add(sample)
    }

    /// Adds every group of `other` (e.g. from a scan of another part of the rows)
    /// under the number `renumber` gives it here.
    public mutating func merge(_ other: StatsAccumulator, renumbering renumber: (Int) -> Int) {
        for (group, tally) in zip(other.groups, other.tallies) {
            let slot = slot(for: renumber(group))
            tallies[slot].merge(tally)
        }
    }

    private mutating func slot(for group: Int) -> Int {
        if let slot = slots[group] { return slot }
        slots[group] = tallies.count
        groups.append(group)
        tallies.append(StatsTally())
        return tallies.count - 1
    }

    /// The report, rows ordered as suits `grouping` (time and status ascending,
    /// otherwise most requests first).
    public func report(grouping: StatsGrouping, label: (Int) -> String) -> StatsReport {
        var total = StatsTally()
        var rows: [StatsRow] = []
        rows.reserveCapacity(tallies.count)
        for (group, tally) in zip(groups, tallies) {
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
