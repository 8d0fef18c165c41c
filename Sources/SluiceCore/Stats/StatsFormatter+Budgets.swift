/// Budget use of one key id, for `sluice stats --by key`: spend in the current
/// UTC day and month against the caps that apply (nil: no cap in that window).
public struct BudgetUse: Sendable, Equatable {
    public var daySpent: Double
    public var dayCap: Double?
    public var monthSpent: Double
    public var monthCap: Double?

    public init(daySpent: Double, dayCap: Double?, monthSpent: Double, monthCap: Double?) {
        self.daySpent = daySpent
        self.dayCap = dayCap
        self.monthSpent = monthSpent
        self.monthCap = monthCap
    }

    /// The use of each key id in `keyIDs` that has a cap, from the caps and the spend per key id.
    public static func of(
        _ keyIDs: [String], budgets: BudgetSettings, daySpend: [String: Double], monthSpend: [String: Double]
    ) -> [String: BudgetUse] {
        var uses: [String: BudgetUse] = [:]
        for keyID in keyIDs {
            let budget = budgets.budget(for: keyID)
            guard budget.isCapped else { continue }
            uses[keyID] = BudgetUse(
                daySpent: daySpend[keyID] ?? 0, dayCap: budget.usdPerDay,
                monthSpent: monthSpend[keyID] ?? 0, monthCap: budget.usdPerMonth)
        }
        return uses
    }
}

extension StatsFormatter {
    /// As `render(_:as:)`; a table also shows `budgetUse` (by group, i.e. key id)
    /// in two more columns when it is not empty. `json` and `csv` keep exactly
    /// their fields.
    public static func render(_ report: StatsReport, as format: StatsFormat, budgetUse: [String: BudgetUse]) -> String {
        guard format == .table, !budgetUse.isEmpty else { return render(report, as: format) }
        return table(report, budgetUse: budgetUse)
    }

    static let budgetColumnTitles = ["TODAY $/CAP", "MONTH $/CAP"]

    /// `0.0123/5.00` (spent/cap), `-` for a window without a cap or a group without a budget.
    static func budgetCells(_ group: String, _ budgetUse: [String: BudgetUse]) -> [String] {
        guard let use = budgetUse[group] else { return ["-", "-"] }
        let cell = { (spent: Double, cap: Double?) -> String in
            guard let cap else { return "-" }
            return DecimalText.fixed(spent, places: 4) + "/" + BudgetText.usd(cap).dropFirst()
        }
        return [cell(use.daySpent, use.dayCap), cell(use.monthSpent, use.monthCap)]
    }
}
