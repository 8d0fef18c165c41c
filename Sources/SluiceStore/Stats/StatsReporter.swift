import Foundation
import GRDB
import SluiceCore

/// Builds `sluice stats` reports from the usage table.
///
/// One pass over the matching rows feeds a `StatsAccumulator`, which keeps the
/// latencies of each group for exact nearest-rank percentiles. Where the time
/// goes on a million rows: mostly SQLite decoding records; the Swift side reads
/// columns in place (`StatsScanColumns`), numbers groups without building strings
/// (`TextGroupInterner`) and selects percentiles rather than sorting; a wide
/// report over many rows is split by rowid over the cores (`parts(of:in:)`),
/// each part on a read connection of its own, and merged by group label. Definitions:
/// errors are statuses >= 400 except 429; rate-limited is 429; cache hits are
/// outcomes `hit`, `coalesced` and `stale`; tokens saved is `saved_total_tokens`.
public struct StatsReporter: Sendable {
    let database: SluiceDatabase
    /// A wide scan is split only into parts of at least this many rows.
    let minimumRowsPerPart: Int64

    /// - Parameter minimumRowsPerPart: below this many rows per core a scan is not
    ///   split (splitting pays only on large tables; tests set it low to exercise it).
    public init(database: SluiceDatabase, minimumRowsPerPart: Int = 200_000) {
        self.database = database
        self.minimumRowsPerPart = Int64(max(minimumRowsPerPart, 1))
    }

    public func report(_ query: StatsQuery) throws -> StatsReport {
        let parts = try database.read("stats query") { db in
            try Self.parts(of: query, in: db, minimumRowsPerPart: minimumRowsPerPart)
        }
        let scans = try parts.concurrentMap { rowids in
            try database.read("stats query") { db in try Self.scan(query, rowids: rowids, in: db) }
        }
        // The parts numbered their groups apart: merge them by label.
        var merged = StatsAccumulator()
        var numbers: [String: Int] = [:]
        var labels: [String] = []
        for scan in scans {
            merged.merge(scan.accumulator) { group in
                let label = scan.labels[group] ?? ""
                if let number = numbers[label] { return number }
                numbers[label] = labels.count
                labels.append(label)
                return labels.count - 1
            }
        }
        return merged.report(grouping: query.grouping) { labels[$0] }
    }

    /// What one scan found: its groups and their labels.
    struct PartScan: Sendable {
        var accumulator: StatsAccumulator
        var labels: [Int: String]
    }

    /// A wide report (no --key, no --model) over many rows is scanned in rowid ranges,
    /// one per core (up to 4), each at least `minimumRowsPerPart` rows; nil is the whole query.
    static func parts(of query: StatsQuery, in db: Database, minimumRowsPerPart: Int64) throws -> [Range<Int64>?] {
        let cores = min(ProcessInfo.processInfo.activeProcessorCount, 4)
        guard cores > 1, query.keyID == nil, query.model == nil else { return [nil] }
        let first = try query.since.map { since in
            try Int64.fetchOne(db, sql: "SELECT min(id) FROM usage WHERE timestamp >= ?", arguments: [since])
        } ?? Int64.fetchOne(db, sql: "SELECT min(id) FROM usage")
        guard let first, let last = try Int64.fetchOne(db, sql: "SELECT max(id) FROM usage") else { return [nil] }
        let span = last + 1 - first
        let count = Int(min(Int64(cores), max(span / minimumRowsPerPart, 1)))
        guard count > 1 else { return [nil] }
        return (0..<Int64(count)).map { part in
            (first + span * part / Int64(count))..<(first + span * (part + 1) / Int64(count))
        }
    }

    /// One pass over the rows of `query` (within `rowids` when given).
    static func scan(_ query: StatsQuery, rowids: Range<Int64>?, in db: Database) throws -> PartScan {
        let (sql, arguments) = sql(for: query, rowids: rowids)
        let statement = try db.makeStatement(sql: sql)
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        let columns = StatsScanColumns(statement: statement.sqliteStatement)
        var accumulator = StatsAccumulator()
        let label: (Int) -> String
        // The cursor steps the statement (and reports its errors); the columns
        // are read from the statement itself, each group numbered as an integer.
        switch query.grouping {
        case .key, .model, .route, .cache:
            let groups = TextGroupInterner()
            while try rows.next() != nil {
                accumulator.add(columns.sample, to: groups.index(of: columns.groupText))
            }
            label = { groups.label(at: $0) ?? StatsGrouping.noModelLabel }
        case .status:
            while try rows.next() != nil {
                accumulator.add(columns.sample, to: columns.groupInteger)
            }
            label = { String($0) }
        case .day, .hour:
            let isDay = query.grouping == .day
            let seconds = Double(isDay ? UTCCalendar.secondsPerDay : UTCCalendar.secondsPerHour)
            while try rows.next() != nil {
                accumulator.add(columns.sample, to: period(of: columns.groupReal, seconds: seconds))
            }
            label = { isDay ? UTCCalendar.dayLabel(daysSinceEpoch: $0) : UTCCalendar.hourLabel(hoursSinceEpoch: $0) }
        }
        let labels = Dictionary(accumulator.groups.map { ($0, label($0)) }, uniquingKeysWith: { first, _ in first })
        return PartScan(accumulator: accumulator, labels: labels)
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
    static func sql(for query: StatsQuery, rowids: Range<Int64>? = nil) -> (String, StatementArguments) {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let rowids {
            // One part of a wide scan: a rowid range, the time bounds checked per row.
            conditions.append("id >= ? AND id < ?")
            arguments += [rowids.lowerBound, rowids.upperBound]
            if let since = query.since {
                conditions.append("+timestamp >= ?")
                arguments += [since]
            }
        } else if query.keyID != nil || query.model != nil {
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
