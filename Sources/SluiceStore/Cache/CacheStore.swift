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

    /// Inserts or replaces the entry under `response.key` and returns its id.
    /// Replacing keeps its hit count and marks it as just used.
    @discardableResult
    public func store(_ response: CachedResponse) throws -> Int64 {
        try database.write("cache store") { db in
            let statement = try db.cachedStatement(sql: Self.upsertSQL)
            let id = try Int64.fetchOne(statement, arguments: [
                response.key, response.keyID, response.model, response.route, response.status,
                response.contentType, Data(response.body), response.body.count,
                response.createdAt, response.expiresAt,
                response.usage?.promptTokens, response.usage?.completionTokens,
                response.usage?.totalTokens, response.usage?.cost,
            ])
            guard let id else {
                throw SluiceStoreError.failed("cache store", path: database.path, reason: "the upsert returned no id")
            }
            return id
        }
    }

    /// Adds hit counts and moves last use forward (never back), in one transaction.
    /// Hits are given by entry id where the caller knows it, else by key; entries
    /// no longer stored are ignored. Only the narrow `cache_usage` table is written.
    public func recordHits(byID: [Int64: CacheHitTally] = [:], byKey: [String: CacheHitTally] = [:]) throws {
        guard !byID.isEmpty || !byKey.isEmpty else { return }
        try database.write("cache hit recording") { db in
            let updateByID = try db.cachedStatement(sql: """
                UPDATE cache_usage
                SET hit_count = hit_count + ?, last_used_at = max(last_used_at, ?)
                WHERE entry_id = ?
                """)
            // In id order, so consecutive updates tend to share pages.
            for (id, tally) in byID.sorted(by: { $0.key < $1.key }) {
                try updateByID.execute(arguments: [tally.count, tally.lastUsedAt, id])
            }
            guard !byKey.isEmpty else { return }
            let updateByKey = try db.cachedStatement(sql: """
                UPDATE cache_usage
                SET hit_count = hit_count + ?, last_used_at = max(last_used_at, ?)
                WHERE entry_id = (SELECT id FROM cache_entries WHERE key = ?)
                """)
            for (key, tally) in byKey {
                try updateByKey.execute(arguments: [tally.count, tally.lastUsedAt, key])
            }
        }
    }

    // MARK: SQL and decoding

    private static let selectEntrySQL = """
        SELECT key, key_id, model, route, status, content_type, body, body_bytes,
               created_at, expires_at, prompt_tokens, completion_tokens, total_tokens, cost, id
        FROM cache_entries WHERE key = ?
        """

    private static let upsertSQL = """
        INSERT INTO cache_entries (
            key, key_id, model, route, status, content_type, body, body_bytes,
            created_at, expires_at,
            prompt_tokens, completion_tokens, total_tokens, cost)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET
            key_id = excluded.key_id, model = excluded.model, route = excluded.route,
            status = excluded.status, content_type = excluded.content_type,
            body = excluded.body, body_bytes = excluded.body_bytes,
            created_at = excluded.created_at, expires_at = excluded.expires_at,
            prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
            total_tokens = excluded.total_tokens, cost = excluded.cost
        RETURNING id
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
            let expiresAt = row.storage(9).number,
            case .int64(let id) = row.storage(14)
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
            usage: decodeUsage(row), id: id
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

/// Hits on one entry not yet written to the store.
public struct CacheHitTally: Sendable, Equatable {
    public var count: Int
    /// Unix seconds of the latest hit.
    public var lastUsedAt: Double

    public init(count: Int, lastUsedAt: Double) {
        self.count = count
        self.lastUsedAt = lastUsedAt
    }

    /// Adds one hit at `time`.
    public mutating func add(at time: Double) {
        count += 1
        lastUsedAt = max(lastUsedAt, time)
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
