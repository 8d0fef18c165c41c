extension StatsFormatter {
    /// Aligned columns, a rule, and a totals line; `emptyMessage` when there are no rows.
    /// With `budgetUse` (grouped by key), two more columns show each key's budget use.
    static func table(_ report: StatsReport, budgetUse: [String: BudgetUse] = [:]) -> String {
        guard !report.rows.isEmpty else { return emptyMessage + "\n" }
        let budgets = !budgetUse.isEmpty
        let header = [report.grouping.columnTitle] + tableColumnTitles + (budgets ? budgetColumnTitles : [])
        let body = report.rows.map { tableCells($0) + (budgets ? budgetCells($0.group, budgetUse) : []) }
        let totals = tableCells(report.totals) + (budgets ? ["", ""] : [])
        let all = [header] + body + [totals]
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }

        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                // The group column is text: left-aligned; numbers are right-aligned.
                return column == 0 ? cell + padding : padding + cell
            }
            .joined(separator: "  ")
            .droppingTrailingSpaces()
        }

        let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        let lines = [line(header)] + body.map(line) + [rule, line(totals)]
        return lines.joined(separator: "\n") + "\n"
    }

    private static let tableColumnTitles = [
        "REQUESTS", "HITS", "HIT%", "ERRORS", "429", "PROMPT", "COMPLETION", "SAVED",
        "COST $", "SAVED $", "P50 MS", "P95 MS",
    ]

    private static func tableCells(_ row: StatsRow) -> [String] {
        [
            row.group,
            DecimalText.grouped(row.requests),
            DecimalText.grouped(row.cacheHits),
            DecimalText.fixed(row.hitRate * 100, places: 1),
            DecimalText.grouped(row.errors),
            DecimalText.grouped(row.rateLimited),
            DecimalText.grouped(row.promptTokens),
            DecimalText.grouped(row.completionTokens),
            DecimalText.grouped(row.tokensSaved),
            DecimalText.fixed(row.cost, places: 4),
            DecimalText.fixed(row.costSaved, places: 4),
            DecimalText.fixed(row.latencyP50Ms, places: 0),
            DecimalText.fixed(row.latencyP95Ms, places: 0),
        ]
    }
}

private extension String {
    func droppingTrailingSpaces() -> String {
        var result = Substring(self)
        while result.last == " " { result.removeLast() }
        return String(result)
    }
}
