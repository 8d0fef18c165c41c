import Foundation
import GRDB
import SluiceCore

/// The response cache table. All methods are synchronous, for the server's own
/// threads: a point read costs far less than an async hop.
///
/// Freshness is the caller's decision: `entry(forKey:)` returns an expired entry
/// too, and `deleteExpired(now:)` removes them in the background.
public final class CacheStore: Sendable {
    let database: SluiceDatabase

    public init(database: SluiceDatabase) {
        self.database = database
    }

    /// The entry stored under `key`, or nil. A row that cannot be decoded is
    /// deleted and reads as a miss.
    public func entry(forKey key: String) throws -> CachedResponse? {
        let row = try database.readSingleStatement("cache lookup") { db in
            try Row.fetchOne(db.cachedStatement(sql: Self.selectEntrySQL), arguments: [key])
        }
        guard let row else { return nil }
        if let entry = Self.decode(row) {
            return entry
        }
        try database.write("cache cleanup") { db in
            try db.execute(sql: "DELETE FROM cache_entries WHERE key = ?", arguments: [key])
        }
        return nil
    }

    /// Inserts or replaces the entry under `response.key`. Replacing keeps its hit count.
    public func store(_ response: CachedResponse) throws {
        try database.write("cache store") { db in
            try db.cachedStatement(sql: Self.upsertSQL).execute(arguments: [
                response.key, response.keyID, response.model, response.route, response.status,
                response.contentType, Data(response.body), response.body.count,
                response.createdAt, response.expiresAt, response.createdAt,
                response.usage?.promptTokens, response.usage?.completionTokens,
                response.usage?.totalTokens, response.usage?.cost,
            ])
        }
    }

    /// Adds hit counts and moves `last_used_at` forward, for many keys in one transaction.
    /// Keys no longer stored are ignored.
    public func recordHits(_ hits: [(key: String, count: Int, lastUsedAt: Double)]) throws {
        guard !hits.isEmpty else { return }
        try database.write("cache hit recording") { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE cache_entries
                SET hit_count = hit_count + ?, last_used_at = max(last_used_at, ?)
                WHERE key = ?
                """)
            for hit in hits {
                try statement.execute(arguments: [hit.count, hit.lastUsedAt, hit.key])
            }
        }
    }

    // MARK: SQL and decoding

    private static let selectEntrySQL = """
        SELECT key, key_id, model, route, status, content_type, body, body_bytes,
               created_at, expires_at, prompt_tokens, completion_tokens, total_tokens, cost
        FROM cache_entries WHERE key = ?
        """

    private static let upsertSQL = """
        INSERT INTO cache_entries (
            key, key_id, model, route, status, content_type, body, body_bytes,
            created_at, expires_at, last_used_at,
            prompt_tokens, completion_tokens, total_tokens, cost)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET
            key_id = excluded.key_id, model = excluded.model, route = excluded.route,
            status = excluded.status, content_type = excluded.content_type,
            body = excluded.body, body_bytes = excluded.body_bytes,
            created_at = excluded.created_at, expires_at = excluded.expires_at,
            last_used_at = excluded.last_used_at,
            prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
            total_tokens = excluded.total_tokens, cost = excluded.cost
        """

    /// Decodes a row of `selectEntrySQL`, or nil when any column has the wrong type or
    /// the body does not match its recorded size.
    static func decode(_ row: Row) -> CachedResponse? {
        guard
            case .string(let key) = row.storage(0),
            case .string(let keyID) = row.storage(1),
            case .string(let route) = row.storage(3),
            case .int64(let status) = row.storage(4), (100...599).contains(status),
            case .string(let contentType) = row.storage(5),
            case .blob(let body) = row.storage(6),
            case .int64(let bodyBytes) = row.storage(7), bodyBytes == body.count,
            let createdAt = row.storage(8).number,
            let expiresAt = row.storage(9).number
        else { return nil }
        let model: String?
        switch row.storage(2) {
        case .null: model = nil
        case .string(let value): model = value
        default: return nil
        }
        return CachedResponse(
            key: key, keyID: keyID, model: model, route: route, status: Int(status),
            contentType: contentType, body: [UInt8](body), createdAt: createdAt, expiresAt: expiresAt,
            usage: decodeUsage(row)
        )
    }

    private static func decodeUsage(_ row: Row) -> TokenUsage? {
        guard
            case .int64(let prompt) = row.storage(10),
            case .int64(let completion) = row.storage(11),
            case .int64(let total) = row.storage(12)
        else { return nil }
        return TokenUsage(
            promptTokens: Int(prompt), completionTokens: Int(completion), totalTokens: Int(total),
            cost: row.storage(13).number
        )
    }
}

extension Row {
    /// The raw SQLite value of column `index`.
    fileprivate func storage(_ index: Int) -> DatabaseValue.Storage {
        (self[index] as DatabaseValue).storage
    }
}

extension DatabaseValue.Storage {
    /// A REAL or INTEGER value as a Double.
    var number: Double? {
        switch self {
        case .double(let value): value
        case .int64(let value): Double(value)
        default: nil
        }
    }
}
