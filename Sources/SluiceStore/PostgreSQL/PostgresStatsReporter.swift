import PostgresNIO
import SluiceCore

/// `sluice stats` reports from the usage rows in PostgreSQL, grouped and
/// summed by the server: one row per group comes back, with its nearest-rank
/// latency percentiles (`percentile_disc`), plus the totals row.
///
/// The report equals `StatsReporter`'s for the same rows, but for the last
/// bits of the cost sums: the server adds them in its own order.
public struct PostgresStatsReporter: UsageStatsStorage {
    let database: PostgreSQLDatabase

    public init(database: PostgreSQLDatabase) {
        self.database = database
    }

    public func report(_ query: StatsQuery) async throws -> StatsReport {
        let logger = database.logger
        let statement = Self.statement(for: query)
        let grouping = query.grouping
        return try await database.perform("stats query", within: database.timeouts.report) { connection in
            var rows: [StatsRow] = []
            var totals = StatsRow(
                group: "total", requests: 0, cacheHits: 0, hitRate: 0, errors: 0, rateLimited: 0, promptTokens: 0,
                completionTokens: 0, tokensSaved: 0, cost: 0, costSaved: 0, latencyP50Ms: 0, latencyP95Ms: 0)
            for try await columns in try await connection.query(statement, logger: logger).decode(
                (Bool, String?, Int?, Int, Int, Int, Int, Int, Int, Int, Double, Double, Double?, Double?).self
            ) {
                let (isTotal, text, number, requests, hits, errors, rateLimited, prompt, completion, saved,
                     cost, costSaved, p50, p95) = columns
                let row = StatsRow(
                    group: isTotal ? "total" : Self.label(grouping, text: text, number: number),
                    requests: requests, cacheHits: hits,
                    hitRate: requests == 0 ? 0 : Double(hits) / Double(requests),
                    errors: errors, rateLimited: rateLimited, promptTokens: prompt, completionTokens: completion,
                    tokensSaved: saved, cost: cost, costSaved: costSaved,
                    latencyP50Ms: p50 ?? 0, latencyP95Ms: p95 ?? 0)
                if isTotal {
                    totals = row
                } else {
                    rows.append(row)
                }
            }
            return StatsReport(grouping: grouping, rows: StatsRowOrder.sorted(rows, for: grouping), totals: totals)
        }
    }

    /// The group's label as `StatsReporter` writes it.
    static func label(_ grouping: StatsGrouping, text: String?, number: Int?) -> String {
        switch grouping {
        case .key, .model, .route, .cache: text ?? StatsGrouping.noModelLabel
        case .status: String(number ?? 0)
        case .day: UTCCalendar.dayLabel(daysSinceEpoch: number ?? 0)
        case .hour: UTCCalendar.hourLabel(hoursSinceEpoch: number ?? 0)
        }
    }

    /// The grouped query. Columns: whether the row is the totals row, the group
    /// as text or as a number, requests, cache hits, errors, rate-limited,
    /// prompt, completion and saved tokens, cost, saved cost, p50, p95.
    static func statement(for query: StatsQuery) -> PostgresQuery {
        var sql = "SELECT grouping(grp) = 1, "
        sql += query.grouping.isNumeric ? "NULL::text, grp" : "grp, NULL::int8"
        sql += """
            , count(*),
              count(*) FILTER (WHERE cache_outcome IN ('hit', 'coalesced', 'stale')),
              count(*) FILTER (WHERE status >= 400 AND status <> 429),
              count(*) FILTER (WHERE status = 429),
              coalesce(sum(prompt_tokens), 0)::int8, coalesce(sum(completion_tokens), 0)::int8,
              coalesce(sum(saved_total_tokens), 0)::int8,
              coalesce(sum(cost), 0)::float8, coalesce(sum(saved_cost), 0)::float8,
              percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms),
              percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms)
            FROM (SELECT \(groupExpression(query.grouping)) AS grp, * FROM usage
            """
        var bindings = PostgresBindings()
        var conditions: [String] = []
        func condition(_ text: String, _ value: some PostgresNonThrowingEncodable & PostgresDynamicTypeEncodable) {
            bindings.append(value)
            conditions.append(text.replacingOccurrences(of: "?", with: "$\(bindings.count)"))
        }
        if let since = query.since { condition("timestamp >= ?", since) }
        if let until = query.until { condition("timestamp < ?", until) }
        if let keyID = query.keyID { condition("key_id = ?", keyID) }
        if let model = query.model { condition("model = ?", model) }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += ") AS u GROUP BY GROUPING SETS ((grp), ())"
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    /// What a row's group is; day and hour numbers as `StatsReporter` counts them
    /// (0 for a time no calendar holds).
    private static func groupExpression(_ grouping: StatsGrouping) -> String {
        switch grouping {
        case .key: "key_id"
        case .model: "model"
        case .route: "route"
        case .cache: "cache_outcome"
        case .status: "status::int8"
        case .day: period(seconds: UTCCalendar.secondsPerDay)
        case .hour: period(seconds: UTCCalendar.secondsPerHour)
        }
    }

    private static func period(seconds: Int) -> String {
        "CASE WHEN abs(floor(timestamp / \(seconds))) < 1e12 THEN floor(timestamp / \(seconds))::int8 ELSE 0 END"
    }
}

private extension StatsGrouping {
    var isNumeric: Bool {
        switch self {
        case .status, .day, .hour: true
        case .key, .model, .route, .cache: false
        }
    }
}
