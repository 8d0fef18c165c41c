import GRDB
import SluiceCore

/// The usage table: one row per request, written in batches off the request path.
public final class UsageStore: Sendable {
    let database: SluiceDatabase

    public init(database: SluiceDatabase) {
        self.database = database
    }

    /// Inserts `rows` in one transaction with one prepared statement.
    public func insert(_ rows: [UsageRecord]) throws {
        guard !rows.isEmpty else { return }
        try database.write("usage insert") { db in
            let statement = try db.cachedStatement(sql: Self.insertSQL)
            for record in rows {
                try statement.execute(arguments: Self.arguments(for: record))
            }
        }
    }

    /// Deletes rows whose time is before `olderThan` (unix seconds); returns how many.
    public func prune(olderThan: Double) throws -> Int {
        try database.write("usage pruning") { db in
            try db.execute(sql: "DELETE FROM usage WHERE timestamp < ?", arguments: [olderThan])
            return db.changesCount
        }
    }

    /// The reported cost (USD) of each key id's rows at or after `since` (unix
    /// seconds), for seeding budget spend at start; keys without cost are left out.
    public func spendByKey(since: Double) throws -> [String: Double] {
        try database.read("usage spend") { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT key_id, SUM(cost) FROM usage
                WHERE timestamp >= ? AND cost IS NOT NULL
                GROUP BY key_id
                """, arguments: [since])
            var spend: [String: Double] = [:]
            for row in rows {
                let keyID: String = row[0]
                let total: Double? = row[1]
                if let total, total != 0 { spend[keyID] = total }
            }
            return spend
        }
    }

    static let insertSQL = """
        INSERT INTO usage (
            timestamp, key_id, model, route, streaming, status, cache_outcome,
            prompt_tokens, completion_tokens, total_tokens, cost,
            saved_prompt_tokens, saved_completion_tokens, saved_total_tokens, saved_cost,
            first_byte_latency_ms, latency_ms, upstream_latency_ms,
            request_bytes, response_bytes, error_code, cached_tokens)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    static func arguments(for record: UsageRecord) -> StatementArguments {
        [
            record.timestamp, record.keyID, record.model, record.route, record.streaming,
            record.status, record.cacheOutcome.rawValue,
            record.usage?.promptTokens, record.usage?.completionTokens,
            record.usage?.totalTokens, record.usage?.cost,
            record.saved?.promptTokens, record.saved?.completionTokens,
            record.saved?.totalTokens, record.saved?.cost,
            record.firstByteLatencyMs, record.latencyMs, record.upstreamLatencyMs,
            record.requestBytes, record.responseBytes, record.errorCode, record.usage?.cachedTokens,
        ]
    }
}
