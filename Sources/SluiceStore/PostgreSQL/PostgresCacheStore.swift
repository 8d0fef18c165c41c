import PostgresNIO
import SluiceCore

/// The response cache in PostgreSQL, shared by every daemon of a fleet: an
/// answer one stores is a hit on every other.
///
/// Freshness is the caller's decision, as with `CacheStore`: `entry(forKey:)`
/// returns an expired entry too.
public struct PostgresCacheStore: CacheEntryStorage {
    let database: PostgreSQLDatabase

    public init(database: PostgreSQLDatabase) {
        self.database = database
    }

    public func entry(forKey key: String) async throws -> CachedResponse? {
        let logger = database.logger
        return try await database.perform("cache lookup") { connection in
            let rows = try await connection.query("""
                SELECT key_id, model, route, status, content_type, body, body_bytes,
                       created_at, expires_at, prompt_tokens, completion_tokens, total_tokens, cost
                FROM cache_entries WHERE key = \(key)
                """, logger: logger)
            for try await row in rows.decode(
                (String, String?, String, Int, String, ByteBuffer, Int, Double, Double, Int?, Int?, Int?, Double?).self
            ) {
                let (keyID, model, route, status, contentType, body, bodyBytes, createdAt, expiresAt,
                     prompt, completion, total, cost) = row
                // A body cut short is never served.
                guard body.readableBytes == bodyBytes else { return nil }
                var usage: TokenUsage?
                if let prompt, let completion, let total {
                    usage = TokenUsage(promptTokens: prompt, completionTokens: completion, totalTokens: total, cost: cost)
                }
                return CachedResponse(
                    key: key, keyID: keyID, model: model, route: route, status: status, contentType: contentType,
                    body: Array(body.readableBytesView), createdAt: createdAt, expiresAt: expiresAt, usage: usage)
            }
            return nil
        }
    }

    /// One statement for the whole batch; a key twice in it keeps its last answer.
    public func store(_ responses: [CachedResponse]) async throws {
        var lastByKey: [String: CachedResponse] = [:]
        for response in responses { lastByKey[response.key] = response }
        guard !lastByKey.isEmpty else { return }
        // In key order, so that daemons storing overlapping batches lock rows in
        // the same order and never deadlock.
        let rows = lastByKey.values.sorted { $0.key < $1.key }
        let logger = database.logger
        try await database.perform("cache store") { connection in
            try await connection.run("""
                INSERT INTO cache_entries AS e (
                    key, key_id, model, route, status, content_type, body, body_bytes,
                    created_at, expires_at, last_used_at, hit_count,
                    prompt_tokens, completion_tokens, total_tokens, cost)
                SELECT key, key_id, model, route, status, content_type, body, octet_length(body),
                       created_at, expires_at, created_at, 0,
                       prompt_tokens, completion_tokens, total_tokens, cost
                FROM unnest(
                    \(rows.map(\.key))::text[], \(rows.map(\.keyID))::text[],
                    \(PostgresNullableArray(rows.map(\.model)))::text[], \(rows.map(\.route))::text[],
                    \(rows.map(\.status))::int8[], \(rows.map(\.contentType))::text[],
                    \(rows.map { ByteBuffer(bytes: $0.body) })::bytea[],
                    \(rows.map(\.createdAt))::float8[], \(rows.map(\.expiresAt))::float8[],
                    \(PostgresNullableArray(rows.map { $0.usage?.promptTokens }))::int8[],
                    \(PostgresNullableArray(rows.map { $0.usage?.completionTokens }))::int8[],
                    \(PostgresNullableArray(rows.map { $0.usage?.totalTokens }))::int8[],
                    \(PostgresNullableArray(rows.map { $0.usage?.cost }))::float8[]
                ) AS r(key, key_id, model, route, status, content_type, body, created_at, expires_at,
                       prompt_tokens, completion_tokens, total_tokens, cost)
                ON CONFLICT (key) DO UPDATE SET
                    key_id = excluded.key_id, model = excluded.model, route = excluded.route,
                    status = excluded.status, content_type = excluded.content_type,
                    body = excluded.body, body_bytes = excluded.body_bytes,
                    created_at = excluded.created_at, expires_at = excluded.expires_at,
                    last_used_at = greatest(e.last_used_at, excluded.created_at),
                    prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
                    total_tokens = excluded.total_tokens, cost = excluded.cost
                """, logger: logger)
        }
    }

    /// One statement for all the hits; rows are locked in key order first, so
    /// that daemons recording overlapping hits never deadlock.
    public func recordHits(_ hits: [String: CacheHitTally]) async throws {
        guard !hits.isEmpty else { return }
        let sorted = hits.sorted { $0.key < $1.key }
        let logger = database.logger
        try await database.perform("cache hit recording") { connection in
            try await connection.run("""
                WITH tallies AS (
                    SELECT * FROM unnest(
                        \(sorted.map(\.key))::text[], \(sorted.map(\.value.count))::int8[],
                        \(sorted.map(\.value.lastUsedAt))::float8[]
                    ) AS t(key, hits, last_used_at)
                ), locked AS (
                    SELECT e.key FROM cache_entries e JOIN tallies t ON t.key = e.key
                    ORDER BY e.key FOR UPDATE OF e
                )
                UPDATE cache_entries e
                SET hit_count = e.hit_count + t.hits, last_used_at = greatest(e.last_used_at, t.last_used_at)
                FROM tallies t JOIN locked l ON l.key = t.key
                WHERE e.key = t.key
                """, logger: logger)
        }
    }
}
