import PostgresNIO
import SluiceCore

/// Budget spend in PostgreSQL, one row per key and UTC day or month: what one
/// daemon adds, every other reads at once.
public struct PostgresSpendStore: SpendStorage {
    let database: PostgreSQLDatabase

    public init(database: PostgreSQLDatabase) {
        self.database = database
    }

    /// One statement: the amounts summed per key and window, then added.
    public func addSpend(_ amounts: [SpendAmount]) async throws {
        let amounts = amounts.filter { $0.usd.isFinite && $0.usd != 0 }
        guard !amounts.isEmpty else { return }
        let logger = database.logger
        try await database.perform("spend update") { connection in
            try await connection.run("""
                INSERT INTO spend AS s (key_id, period, period_start, usd)
                SELECT key_id, period, period_start, sum(usd)
                FROM unnest(
                    \(amounts.map(\.keyID))::text[],
                    \(amounts.map { SpendLedger.start(of: .day, at: $0.time) })::float8[],
                    \(amounts.map { SpendLedger.start(of: .month, at: $0.time) })::float8[],
                    \(amounts.map(\.usd))::float8[]
                ) AS a(key_id, day_start, month_start, usd)
                CROSS JOIN LATERAL (VALUES ('day', day_start), ('month', month_start)) AS w(period, period_start)
                GROUP BY key_id, period, period_start
                ORDER BY key_id, period, period_start
                ON CONFLICT (key_id, period, period_start) DO UPDATE SET usd = s.usd + excluded.usd
                """, logger: logger)
        }
    }

    public func spend(forKey keyID: String, at time: Double) async throws -> SpendTotals {
        try await spend(at: time, keyID: keyID)[keyID] ?? SpendTotals(day: 0, month: 0)
    }

    public func spendOfEveryKey(at time: Double) async throws -> [String: SpendTotals] {
        try await spend(at: time, keyID: nil)
    }

    /// The spend in the windows containing `time`, of one key or of all.
    private func spend(at time: Double, keyID: String?) async throws -> [String: SpendTotals] {
        let dayStart = SpendLedger.start(of: .day, at: time)
        let monthStart = SpendLedger.start(of: .month, at: time)
        let logger = database.logger
        return try await database.perform("spend read") { connection in
            var totals: [String: SpendTotals] = [:]
            for try await (key, period, usd) in try await connection.query("""
                SELECT key_id, period, usd FROM spend
                WHERE ((period = 'day' AND period_start = \(dayStart))
                       OR (period = 'month' AND period_start = \(monthStart)))
                  AND (\(keyID)::text IS NULL OR key_id = \(keyID))
                """, logger: logger).decode((String, String, Double).self) {
                var entry = totals[key] ?? SpendTotals(day: 0, month: 0)
                if period == "day" { entry.day = usd } else { entry.month = usd }
                totals[key] = entry
            }
            return totals
        }
    }
}
