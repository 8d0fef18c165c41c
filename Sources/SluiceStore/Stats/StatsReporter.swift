import GRDB
import SluiceCore

/// Builds `sluice stats` reports from the usage table.
///
/// One pass over the matching rows feeds a `StatsAccumulator`, which keeps the
/// latencies of each group for exact nearest-rank percentiles. Definitions:
/// errors are statuses >= 400 except 429; rate-limited is 429; cache hits are
/// outcomes `hit` and `coalesced`; tokens saved is `saved_total_tokens`.
public struct StatsReporter: Sendable {
    let database: SluiceDatabase

    public init(database: SluiceDatabase) {
        self.database = database
    }

    public func report(_ query: StatsQuery) throws -> StatsReport {
        let (sql, arguments) = Self.sql(for: query)
        return try database.read("stats query") { db in
            let statement = try db.makeStatement(sql: sql)
            switch query.grouping {
            case .key, .model, .route, .cache:
                return try Self.scan(statement, arguments, grouping: query.grouping,
                                     group: { row in row[0] as String? }) { $0 ?? StatsGrouping.noModelLabel }
            case .status:
                return try Self.scan(statement, arguments, grouping: query.grouping,
                                     group: { row in row[0] as Int }) { String($0) }
            case .day:
                return try Self.scan(statement, arguments, grouping: query.grouping,
                                     group: { row in row[0] as Int }) { UTCCalendar.dayLabel(daysSinceEpoch: $0) }
            case .hour:
                return try Self.scan(statement, arguments, grouping: query.grouping,
                                     group: { row in row[0] as Int }) { UTCCalendar.hourLabel(hoursSinceEpoch: $0) }
            }
        }
    }

    private static func scan<Group: Hashable>(
        _ statement: Statement, _ arguments: StatementArguments, grouping: StatsGrouping,
        group: (Row) -> Group, label: (Group) -> String
    ) throws -> StatsReport {
        var accumulator = StatsAccumulator<Group>()
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        while let row = try rows.next() {
            let sample = StatsSample(
                status: row[1], isCacheHit: row[2], promptTokens: row[3], completionTokens: row[4],
                tokensSaved: row[5], cost: row[6], costSaved: row[7], latencyMs: row[8])
            accumulator.add(sample, to: group(row))
        }
        return accumulator.report(grouping: grouping, label: label)
    }

    /// The scan's SQL. Columns: group, status, is-hit, prompt, completion, saved tokens,
    /// cost, saved cost, latency; NULL numbers read as 0.
    static func sql(for query: StatsQuery) -> (String, StatementArguments) {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if query.keyID != nil || query.model != nil {
            // Narrow: the (key_id, timestamp) or (model, timestamp) index finds the rows.
            if let keyID = query.keyID {
                conditions.append("key_id = ?")
                arguments += [keyID]
            }
            if let model = query.model {
                conditions.append("model = ?")
                arguments += [model]
            }
            if let since = query.since {
                conditions.append("timestamp >= ?")
                arguments += [since]
            }
        } else if let since = query.since {
            // Wide: walk the table in rowid order from the first row in range rather than
            // look each row up through the timestamp index. Rows are written roughly in
            // time order, and no row in range has a smaller rowid than this minimum.
            conditions.append("id >= (SELECT min(id) FROM usage WHERE timestamp >= ?)")
            conditions.append("+timestamp >= ?")
            arguments += [since, since]
        }
        if let until = query.until {
            conditions.append("+timestamp < ?")
            arguments += [until]
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = """
            SELECT \(groupExpression(query.grouping)), status, cache_outcome IN ('hit', 'coalesced'),
                   ifnull(prompt_tokens, 0), ifnull(completion_tokens, 0), ifnull(saved_total_tokens, 0),
                   ifnull(cost, 0.0), ifnull(saved_cost, 0.0), latency_ms
            FROM usage \(filter)
            """
        return (sql, arguments)
    }

    private static func groupExpression(_ grouping: StatsGrouping) -> String {
        switch grouping {
        case .key: "key_id"
        case .model: "model"
        case .route: "route"
        case .cache: "cache_outcome"
        case .status: "status"
        case .day: "CAST(timestamp / \(UTCCalendar.secondsPerDay) AS INTEGER)"
        case .hour: "CAST(timestamp / \(UTCCalendar.secondsPerHour) AS INTEGER)"
        }
    }
}
