import PostgresNIO
import SluiceCore

/// The usage rows in PostgreSQL: every daemon of a fleet appends its own, and
/// `sluice stats` reads them all.
public struct PostgresUsageStore: UsageRowStorage {
    let database: PostgreSQLDatabase

    public init(database: PostgreSQLDatabase) {
        self.database = database
    }

    /// One statement, one array parameter per column: the same SQL for any batch size.
    public func insert(_ rows: [UsageRecord]) async throws {
        guard !rows.isEmpty else { return }
        let logger = database.logger
        try await database.perform("usage insert") { connection in
            try await connection.run("""
                INSERT INTO usage (
                    timestamp, key_id, model, route, streaming, status, cache_outcome,
                    prompt_tokens, completion_tokens, total_tokens, cost,
                    saved_prompt_tokens, saved_completion_tokens, saved_total_tokens, saved_cost,
                    first_byte_latency_ms, latency_ms, upstream_latency_ms,
                    request_bytes, response_bytes, error_code, cached_tokens)
                SELECT * FROM unnest(
                    \(rows.map(\.timestamp))::float8[], \(rows.map(\.keyID))::text[],
                    \(PostgresNullableArray(rows.map(\.model)))::text[], \(rows.map(\.route))::text[],
                    \(rows.map(\.streaming))::bool[], \(rows.map(\.status))::int8[],
                    \(rows.map(\.cacheOutcome.rawValue))::text[],
                    \(PostgresNullableArray(rows.map { $0.usage?.promptTokens }))::int8[],
                    \(PostgresNullableArray(rows.map { $0.usage?.completionTokens }))::int8[],
                    \(PostgresNullableArray(rows.map { $0.usage?.totalTokens }))::int8[],
                    \(PostgresNullableArray(rows.map { $0.usage?.cost }))::float8[],
                    \(PostgresNullableArray(rows.map { $0.saved?.promptTokens }))::int8[],
                    \(PostgresNullableArray(rows.map { $0.saved?.completionTokens }))::int8[],
                    \(PostgresNullableArray(rows.map { $0.saved?.totalTokens }))::int8[],
                    \(PostgresNullableArray(rows.map { $0.saved?.cost }))::float8[],
                    \(PostgresNullableArray(rows.map(\.firstByteLatencyMs)))::float8[],
                    \(rows.map(\.latencyMs))::float8[],
                    \(PostgresNullableArray(rows.map(\.upstreamLatencyMs)))::float8[],
                    \(rows.map(\.requestBytes))::int8[], \(rows.map(\.responseBytes))::int8[],
                    \(PostgresNullableArray(rows.map(\.errorCode)))::text[],
                    \(PostgresNullableArray(rows.map { $0.usage?.cachedTokens }))::int8[]
                )
                """, logger: logger)
        }
    }

    public func prune(olderThan: Double) async throws -> Int {
        let logger = database.logger
        return try await database.perform("usage pruning", within: database.timeouts.report) { connection in
            try await connection.query("""
                WITH gone AS (DELETE FROM usage WHERE timestamp < \(olderThan) RETURNING 1)
                SELECT count(*) FROM gone
                """, logger: logger).collect().first?.decode(Int.self) ?? 0
        }
    }

    public func spendByKey(since: Double) async throws -> [String: Double] {
        let logger = database.logger
        return try await database.perform("usage spend", within: database.timeouts.report) { connection in
            var spend: [String: Double] = [:]
            for try await (keyID, total) in try await connection.query("""
                SELECT key_id, sum(cost) FROM usage
                WHERE timestamp >= \(since) AND cost IS NOT NULL
                GROUP BY key_id
                """, logger: logger).decode((String, Double?).self) {
                if let total, total != 0 { spend[keyID] = total }
            }
            return spend
        }
    }
}
