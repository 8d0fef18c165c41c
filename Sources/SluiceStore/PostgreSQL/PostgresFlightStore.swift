import PostgresNIO

/// Claims on cache keys being fetched upstream, so that identical requests in
/// flight anywhere in a fleet make one upstream call (`cache_flights`).
public struct PostgresFlightStore: Sendable {
    let database: PostgreSQLDatabase

    public init(database: PostgreSQLDatabase) {
        self.database = database
    }

    /// Claims `key` until `expiresAt` (unix seconds, the daemons' clock, as
    /// `now`); true when this caller holds it: nobody did, or the last claim ran out.
    public func claim(_ key: String, now: Double, expiresAt: Double) async throws -> Bool {
        let logger = database.logger
        return try await database.perform("flight claim") { connection in
            let rows = try await connection.query("""
                INSERT INTO cache_flights AS f (key, expires_at) VALUES (\(key), \(expiresAt))
                ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE f.expires_at <= \(now)
                RETURNING 1
                """, logger: logger).collect()
            return !rows.isEmpty
        }
    }

    /// Whether someone holds a live claim on `key`.
    public func isClaimed(_ key: String, now: Double) async throws -> Bool {
        let logger = database.logger
        return try await database.perform("flight check") { connection in
            let rows = try await connection.query(
                "SELECT 1 FROM cache_flights WHERE key = \(key) AND expires_at > \(now)", logger: logger).collect()
            return !rows.isEmpty
        }
    }

    /// Ends a claim (after the answer is stored, or the call failed).
    public func release(_ key: String) async throws {
        let logger = database.logger
        try await database.perform("flight release") { connection in
            try await connection.run("DELETE FROM cache_flights WHERE key = \(key)", logger: logger)
        }
    }
}
