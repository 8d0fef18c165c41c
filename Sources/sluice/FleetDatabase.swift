import Foundation
import SluiceCore
import SluiceStore

/// The CLI's way into a fleet's PostgreSQL database (`--db postgresql://…`):
/// the password resolved as the daemon resolves it, the pool run for one command.
enum FleetDatabase {
    /// Opens the database `url` names, runs `body`, then closes it.
    /// - Parameter migrate: apply missing migrations (`sluice migrate`); readers
    ///   only check the schema is this binary's.
    static func with<T: Sendable>(
        _ url: String, migrate: Bool = false, _ body: @escaping @Sendable (PostgreSQLDatabase) async throws -> T
    ) async throws -> T {
        let resolved = try PostgresURL(parsing: url).resolvingPassword(environment: ProcessInfo.processInfo.environment)
        let database = try await PostgreSQLDatabase.open(url: resolved, maximumConnections: 2, migrate: migrate)
        return try await database.withRunning(body)
    }
}
