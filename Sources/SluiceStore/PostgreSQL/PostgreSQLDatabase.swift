import Logging
import PostgresNIO
import ServiceLifecycle

/// The PostgreSQL database of a fleet: a pool of connections shared by the
/// stores (`PostgresCacheStore`, `PostgresUsageStore`, ...).
///
/// `open` connects once (so that a wrong password or an unreachable server is
/// a clear error at start), applies the migrations and returns; the pool then
/// works while `run()` runs, as a `Service` of the daemon's group, or inside
/// `withRunning(_:)`. Every wait is bounded by `timeouts`.
public final class PostgreSQLDatabase: Sendable, Service {
    public let url: PostgresURL
    public let timeouts: PostgresTimeouts
    /// Identifiers of the migrations `open` applied (empty when the database was up to date).
    public let migrationsAppliedAtOpen: [String]
    package let client: PostgresClient
    let logger: Logger

    private init(url: PostgresURL, timeouts: PostgresTimeouts, applied: [String], client: PostgresClient, logger: Logger) {
        self.url = url
        self.timeouts = timeouts
        self.migrationsAppliedAtOpen = applied
        self.client = client
        self.logger = logger
    }

    /// Connects, then applies the migrations the database lacks (`migrate`), or
    /// only checks it has exactly this binary's (`sluice stats` and other readers).
    ///
    /// - Parameters:
    ///   - url: with its password resolved (`PostgresURL.resolvingPassword(environment:)`).
    ///   - maximumConnections: the pool's size.
    public static func open(
        url: PostgresURL, timeouts: PostgresTimeouts = PostgresTimeouts(), maximumConnections: Int = 8,
        migrate: Bool = true, logger: Logger = Logger(label: "sluice.postgresql")
    ) async throws -> PostgreSQLDatabase {
        var timeouts = timeouts
        if let connectTimeout = url.connectTimeout { timeouts.connect = connectTimeout }
        let settings = PostgresConnectionSettings(url: url, timeouts: timeouts)
        let migrationTimeout = timeouts.migration
        let applied = try await settings.withConnection(
            migrate ? "migration" : "schema check", logger: logger, for: migrationTimeout
        ) { connection in
            if migrate {
                return try await PostgresMigrator.migrate(
                    connection, server: url.server, within: migrationTimeout, logger: logger)
            }
            try await PostgresMigrator.checkSchemaIsCurrent(connection, server: url.server, logger: logger)
            return []
        }
        let client = PostgresClient(
            configuration: try settings.clientConfiguration(maximumConnections: maximumConnections),
            backgroundLogger: logger)
        return PostgreSQLDatabase(url: url, timeouts: timeouts, applied: applied, client: client, logger: logger)
    }

    /// Runs the pool until cancelled or the service group shuts down gracefully.
    /// Call it once (or use `withRunning(_:)` instead).
    public func run() async {
        await client.run()
    }

    /// Runs `body` while the pool runs, then stops it: for commands that use
    /// the database once (`sluice stats`) and for tests.
    public func withRunning<T: Sendable>(_ body: (PostgreSQLDatabase) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.client.run() }
            defer { group.cancelAll() }
            return try await body(self)
        }
    }
}
