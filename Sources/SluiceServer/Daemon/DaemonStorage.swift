import Foundation
import Logging
import NIOPosix
import SluiceCore
import SluiceStore

/// Where the daemon keeps what it stores and counts: its own SQLite file, or
/// (fleet mode) the PostgreSQL database every daemon given the same URL shares.
/// The rest of the daemon sees only the storage protocols.
struct DaemonStorage: Sendable {
    var cache: any CacheBackend
    var usageRows: any UsageRowStorage
    /// Fleet mode: the shared buckets, spend and the connection pool to run.
    var fleet: Fleet?

    struct Fleet: Sendable {
        var database: PostgreSQLDatabase
        var buckets: any RateLimitBucketStorage
        var spend: any SpendStorage
        var flights: PostgresFlightStore
        var entries: PostgresCacheStore
        /// Shared by everything on the request path that asks the database.
        var breaker: DatabaseBreaker
        /// Runs the connection pool from `open` until `close()`.
        var pool: Task<Void, Never>
    }

    /// Opens (and migrates) the database `settings` name. A PostgreSQL URL's
    /// password may come from the URL, `PGPASSWORD` or the systemd credential
    /// `db_password`; it is never logged.
    static func open(
        _ location: DatabaseLocation, threadPool: NIOThreadPool, environment: [String: String], logger: Logger
    ) async throws -> DaemonStorage {
        switch location {
        case .sqlite(let path):
            let database = try SluiceDatabase.open(path: path)
            return DaemonStorage(
                cache: SQLiteCacheBackend(database: database, threadPool: threadPool),
                usageRows: SQLiteUsageRows(store: UsageStore(database: database), threadPool: threadPool))
        case .postgresql(let text):
            let url = try PostgresURL(parsing: text).resolvingPassword(environment: environment)
            let database = try await PostgreSQLDatabase.open(url: url, logger: logger)
            let pool = Task { await database.run() }
            if !database.migrationsAppliedAtOpen.isEmpty {
                logger.notice("database migrated", metadata: [
                    "db": "\(url.redacted)", "migrations": "\(database.migrationsAppliedAtOpen.joined(separator: ","))",
                ])
            }
            let breaker = DatabaseBreaker()
            let entries = PostgresCacheStore(database: database)
            return DaemonStorage(
                cache: PostgreSQLCacheBackend(store: entries, breaker: breaker),
                usageRows: PostgresUsageStore(database: database),
                fleet: Fleet(database: database, buckets: PostgresBucketStore(database: database),
                             spend: PostgresSpendStore(database: database),
                             flights: PostgresFlightStore(database: database), entries: entries,
                             breaker: breaker, pool: pool))
        }
    }

    /// Stops the fleet's connection pool: after the services, whose last
    /// writes (usage rows, cached answers) go through it.
    func close() {
        fleet?.pool.cancel()
    }

    /// The spend of the current UTC day and month per key id, to seed budgets
    /// before anything is served: from the usage rows (SQLite), or the fleet's
    /// spend table.
    func spendNow(at now: Double) async throws -> (day: [String: Double], month: [String: Double]) {
        if let fleet {
            let totals = try await fleet.spend.spendOfEveryKey(at: now)
            return (totals.mapValues(\.day), totals.mapValues(\.month))
        }
        let month = try await usageRows.spendByKey(since: SpendLedger.start(of: .month, at: now))
        let day = try await usageRows.spendByKey(since: SpendLedger.start(of: .day, at: now))
        return (day, month)
    }
}
