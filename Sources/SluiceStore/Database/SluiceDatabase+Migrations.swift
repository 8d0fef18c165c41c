import GRDB

extension SluiceDatabase {
    /// Identifiers of the migrations this binary carries, in order.
    public static var knownMigrations: [String] {
        EmbeddedMigrations.all.map(\.identifier)
    }

    /// Applies the embedded migrations this database lacks, each once and in its
    /// own transaction, and returns their identifiers (empty when up to date).
    ///
    /// Throws `SluiceStoreError.newerSchema` when the database holds migrations
    /// this binary does not know: a newer Sluice wrote it.
    public func migrate() throws -> [String] {
        try Self.migrate(pool, path: path)
    }

    static func migrate(_ pool: DatabasePool, path: String) throws -> [String] {
        let migrator = makeMigrator()
        let appliedBefore = try appliedMigrationIdentifiers(migrator, pool, path: path)
        try refuseUnknownMigrations(appliedBefore, path: path)
        do {
            try migrator.migrate(pool)
        } catch {
            throw SluiceStoreError.failed("migration", path: path, reason: SluiceStoreError.reason(for: error))
        }
        return migrator.migrations.filter { !appliedBefore.contains($0) }
    }

    /// The migrations recorded in the database, known to this binary or not.
    public func appliedMigrations() throws -> Set<String> {
        try Self.appliedMigrationIdentifiers(Self.makeMigrator(), pool, path: path)
    }

    /// Fails unless the database holds exactly the migrations this binary knows.
    func checkSchemaIsCurrent() throws {
        let applied = try Self.appliedMigrationIdentifiers(Self.makeMigrator(), pool, path: path)
        try Self.refuseUnknownMigrations(applied, path: path)
        let missing = Self.knownMigrations.filter { !applied.contains($0) }
        if !missing.isEmpty {
            throw SluiceStoreError.olderSchema(path: path, missingMigrations: missing)
        }
    }

    private static func appliedMigrationIdentifiers(
        _ migrator: DatabaseMigrator, _ pool: DatabasePool, path: String
    ) throws -> Set<String> {
        do {
            return try pool.read { try migrator.appliedIdentifiers($0) }
        } catch {
            throw SluiceStoreError.cannotOpen(path: path, reason: SluiceStoreError.reason(for: error))
        }
    }

    private static func refuseUnknownMigrations(_ applied: Set<String>, path: String) throws {
        let unknown = applied.subtracting(knownMigrations)
        if !unknown.isEmpty {
            throw SluiceStoreError.newerSchema(path: path, unknownMigrations: Array(unknown))
        }
    }

    private static func makeMigrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in EmbeddedMigrations.all {
            let sql = migration.sql
            migrator.registerMigration(migration.identifier) { db in
                try db.execute(sql: sql)
            }
        }
        return migrator
    }
}
