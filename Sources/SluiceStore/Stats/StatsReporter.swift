import GRDB
import SluiceCore

/// Builds `sluice stats` reports from the usage table.
///
/// One pass over the matching rows feeds a `StatsAccumulator`, which keeps the
/// latencies of each group for exact nearest-rank percentiles. Where the time
/// goes on a million rows: mostly SQLite decoding records; the Swift side reads
/// columns in place (`StatsScanColumns`), numbers groups without building strings
/// (`TextGroupInterner`) and selects percentiles rather than sorting. Definitions:
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
            let rows = try Row.fetchCursor(statement, arguments: arguments)
            let columns = StatsScanColumns(statement: statement.sqliteStatement)
            var accumulator = StatsAccumulator()
            // The cursor steps the statement (and reports its errors); the columns
            // are read from the statement itself, group by group as an integer.
            switch query.grouping {
            case .key, .model, .route, .cache:
                let groups = TextGroupInterner()
                while try rows.next() != nil {
                    accumulator.add(columns.sample, to: groups.index(of: columns.groupText))
                }
                return accumulator.report(grouping: query.grouping) { groups.label(at: $0) ?? StatsGrouping.noModelLabel }
            case .status:
                while try rows.next() != nil {
                    accumulator.add(columns.sample, to: columns.groupInteger)
                }
                return accumulator.report(grouping: query.grouping) { String($0) }
            case .day, .hour:
                let seconds = Double(query.grouping == .day ? UTCCalendar.secondsPerDay : UTCCalendar.secondsPerHour)
                while try rows.next() != nil {
                    accumulator.add(columns.sample, to: Self.period(of: columns.groupReal, seconds: seconds))
                }
                return accumulator.report(grouping: query.grouping) { period in
                    query.grouping == .day
                        ? UTCCalendar.dayLabel(daysSinceEpoch: period) : UTCCalendar.hourLabel(hoursSinceEpoch: period)
                }
            }
        }
    }

    /// The number of the UTC day or hour (`seconds` long) holding `timestamp`;
    /// 0 for a timestamp no calendar holds (a damaged row must not stop the report).
    private static func period(of timestamp: Double, seconds: Double) -> Int {
        let period = (timestamp / seconds).rounded(.down)
        return abs(period) < 1e12 ? Int(period) : 0
    }

    /// The scan's SQL. Columns: group (the timestamp for day and hour), status, cache
    /// outcome, prompt, completion, saved tokens, cost, saved cost, latency. Plain
    /// columns only: `StatsScanColumns` reads a NULL number as 0 for free, where
    /// `ifnull()` in SQL would cost SQLite more than all the Swift work per row.
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
            SELECT \(groupColumn(query.grouping)), status, cache_outcome,
                   prompt_tokens, completion_tokens, saved_total_tokens, cost, saved_cost, latency_ms
            FROM usage \(filter)
            """
        return (sql, arguments)
    }

    private static func groupColumn(_ grouping: StatsGrouping) -> String {
        switch grouping {
        case .key: "key_id"
        case .model: "model"
        case .route: "route"
        case .cache: "cache_outcome"
        case .status: "status"
        case .day, .hour: "timestamp"
        }
    }
}
