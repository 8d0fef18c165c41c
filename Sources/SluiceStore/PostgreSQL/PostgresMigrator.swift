import Logging
import PostgresNIO

/// Applies `PostgresEmbeddedMigrations` in order, each once, recording each in
/// `sluice_migrations`, all in one transaction.
///
/// Daemons starting together take turns: the transaction first takes an
/// advisory lock that only migrators take, so the second one waits, then finds
/// everything applied. A database holding a migration this binary does not
/// know was migrated by a newer Sluice, and is refused.
enum PostgresMigrator {
    /// The advisory lock key of migrations: "sluiceM1" in ASCII.
    static let lockKey: Int64 = 0x736C_7569_6365_4D31

    /// Identifiers of the migrations this binary carries, in order.
    static var knownMigrations: [String] { PostgresEmbeddedMigrations.all.map(\.identifier) }

    static let createBookkeeping: PostgresQuery = """
        CREATE TABLE IF NOT EXISTS sluice_migrations (
            identifier TEXT        NOT NULL PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
        )
        """

    /// Applies what the database lacks; returns the identifiers applied.
    ///
    /// Waiting for another daemon's migration and each statement are bounded
    /// by `limit` on the server too: a client that gave up leaves no migration
    /// waiting there.
    static func migrate(
        _ connection: PostgresConnection, server: String, within limit: Duration, logger: Logger
    ) async throws -> [String] {
        try await connection.inTransaction(logger: logger) { connection in
            let milliseconds = String(PostgresTimeouts.milliseconds(limit))
            try await connection.run("SELECT set_config('statement_timeout', \(milliseconds), true)", logger: logger)
            try await connection.run("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.run(createBookkeeping, logger: logger)
            let applied = try await appliedMigrations(connection, logger: logger)
            try refuseUnknown(applied, server: server)
            var newlyApplied: [String] = []
            for migration in PostgresEmbeddedMigrations.all where !applied.contains(migration.identifier) {
                try await connection.run(PostgresQuery(unsafeSQL: try runnable(migration.sql, server: server)), logger: logger)
                try await connection.run(
                    "INSERT INTO sluice_migrations (identifier) VALUES (\(migration.identifier))", logger: logger)
                newlyApplied.append(migration.identifier)
            }
            return newlyApplied
        }
    }

    /// Fails unless the database holds exactly the migrations this binary knows.
    static func checkSchemaIsCurrent(_ connection: PostgresConnection, server: String, logger: Logger) async throws {
        let exists = try await connection.query(
            "SELECT to_regclass('sluice_migrations') IS NOT NULL", logger: logger
        ).collect().first?.decode(Bool.self) ?? false
        let applied = exists ? try await appliedMigrations(connection, logger: logger) : []
        try refuseUnknown(applied, server: server)
        let missing = knownMigrations.filter { !applied.contains($0) }
        if !missing.isEmpty {
            throw PostgresStoreError.olderSchema(server: server, missingMigrations: missing)
        }
    }

    static func appliedMigrations(_ connection: PostgresConnection, logger: Logger) async throws -> Set<String> {
        var applied: Set<String> = []
        for try await identifier in try await connection.query(
            "SELECT identifier FROM sluice_migrations", logger: logger
        ).decode(String.self) {
            applied.insert(identifier)
        }
        return applied
    }

    private static func refuseUnknown(_ applied: Set<String>, server: String) throws {
        let unknown = applied.subtracting(knownMigrations)
        if !unknown.isEmpty {
            throw PostgresStoreError.newerSchema(server: server, unknownMigrations: Array(unknown))
        }
    }

    /// A migration file as one statement: the extended query protocol takes one
    /// statement at a time, and PL/pgSQL's EXECUTE runs a string of several.
    static func runnable(_ sql: String, server: String) throws -> String {
        let quote = "$sluice_migration$"
        guard !sql.contains(quote), !sql.contains("$sluice_do$") else {
            throw PostgresStoreError.failed("migration", server: server, reason: "a migration contains \(quote)")
        }
        return "DO $sluice_do$ BEGIN EXECUTE \(quote)\(sql)\(quote); END $sluice_do$"
    }
}
