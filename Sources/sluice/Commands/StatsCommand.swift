import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

extension StatsGrouping: ExpressibleByArgument {}
extension StatsFormat: ExpressibleByArgument {}

/// `sluice stats`: the usage report, read-only, safe while the daemon runs.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Report requests, cache hits, tokens, cost and latency from the usage table.",
        discussion: """
            Reads the database without writing to it, so it works while `sluice serve` runs.
            Without --since the report covers every recorded row (rows older than \
            `usage.retention` are pruned by the daemon). Days and hours are UTC.
            Cache hits count requests answered from the cache or shared with an identical \
            request in flight; errors are statuses >= 400 except 429, counted as rate-limited.
            With --by key and `budgets` in the config, the table also shows each capped \
            key's spend today and this month (UTC) against its caps (TODAY $/CAP, MONTH $/CAP).
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: ArgumentHelp("Start of the range: a duration back from now (90s, 15m, 24h, 7d) or a UTC date (2026-11-26, 2026-11-26T05:00:00Z). Default: all rows.", valueName: "duration|date"))
    var since: String?

    @Option(help: ArgumentHelp("End of the range (exclusive): a UTC date (2026-11-26, 2026-11-26T05:00:00Z). Default: now.", valueName: "date"))
    var until: String?

    @Option(name: .customLong("by"), help: ArgumentHelp("Group rows by: \(StatsGrouping.allValueStrings.joined(separator: ", ")).", valueName: "grouping"))
    var grouping: StatsGrouping = .model

    @Option(name: .customLong("key"), help: ArgumentHelp("Only this client key id.", valueName: "id"))
    var keyID: String?

    @Option(help: "Only this model.")
    var model: String?

    @Option(help: "Output format: table, json or csv.")
    var format: StatsFormat = .table

    func run() async throws {
        let now = Date().timeIntervalSince1970
        let query = StatsQuery(
            since: try since.map { try StatsTimeArgument.since($0, now: now) },
            until: try until.map { try StatsTimeArgument.until($0) },
            grouping: grouping, keyID: keyID, model: model)
        if let start = query.since, let end = query.until, start >= end {
            throw ValidationError("--since must be before --until")
        }
        let settings = try options.resolveSettings()
        let wantsBudgets = grouping == .key && format == .table && !settings.budgets.isEmpty
        let report: StatsReport
        // Today's and this month's spend (UTC), whatever --since and --until say.
        var spend: (day: [String: Double], month: [String: Double])?
        switch settings.database {
        case .sqlite(let path):
            let database = try SluiceDatabase.openReadOnly(path: path)
            report = try StatsReporter(database: database).report(query)
            if wantsBudgets {
                let store = UsageStore(database: database)
                spend = (try store.spendByKey(since: SpendLedger.start(of: .day, at: now)),
                         try store.spendByKey(since: SpendLedger.start(of: .month, at: now)))
            }
        case .postgresql(let url):
            (report, spend) = try await FleetDatabase.with(url) { database in
                let report = try await PostgresStatsReporter(database: database).report(query)
                guard wantsBudgets else { return (report, nil) }
                let totals = try await PostgresSpendStore(database: database).spendOfEveryKey(at: now)
                return (report, (totals.mapValues(\.day), totals.mapValues(\.month)))
            }
        }
        var budgetUse: [String: BudgetUse] = [:]
        if let spend {
            budgetUse = BudgetUse.of(
                report.rows.map(\.group), budgets: settings.budgets.resolvingKeyIDs(of: settings.keys),
                daySpend: spend.day, monthSpend: spend.month)
        }
        print(StatsFormatter.render(report, as: format, budgetUse: budgetUse), terminator: "")
    }
}
