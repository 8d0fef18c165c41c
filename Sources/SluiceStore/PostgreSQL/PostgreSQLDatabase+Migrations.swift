extension PostgreSQLDatabase {
    /// Identifiers of the PostgreSQL migrations this binary carries, in order.
    public static var knownMigrations: [String] { PostgresMigrator.knownMigrations }

    /// The migrations recorded in the database, known to this binary or not.
    public func appliedMigrations() async throws -> Set<String> {
        let logger = self.logger
        return try await perform("reading migrations") { connection in
            try await PostgresMigrator.appliedMigrations(connection, logger: logger)
        }
    }
}
