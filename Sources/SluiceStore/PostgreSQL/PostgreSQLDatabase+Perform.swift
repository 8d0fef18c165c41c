import NIOConcurrencyHelpers
import PostgresNIO

extension PostgreSQLDatabase {
    /// Runs `body` on a pooled connection within `limit` (default: the query
    /// timeout), waiting for the connection included. Past the limit the
    /// connection is closed, so whatever it waits on fails at once. A limit
    /// beyond the query timeout runs `body` in a transaction whose
    /// `statement_timeout` is the limit.
    ///
    /// Failures are `PostgresStoreError`s naming `operation`.
    package func perform<T: Sendable>(
        _ operation: String, within limit: Duration? = nil,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let limit = limit ?? timeouts.query
        let longerThanStatements = limit > timeouts.query
        let leased = NIOLockedValueBox<PostgresConnection?>(nil)
        let logger = self.logger
        do {
            return try await withPostgresDeadline(limit, onTimeout: { leased.withLockedValue { $0?.closeAtOnce() } }) {
                try await self.client.withConnection { connection in
                    leased.withLockedValue { $0 = connection }
                    defer { leased.withLockedValue { $0 = nil } }
                    guard longerThanStatements else { return try await body(connection) }
                    return try await connection.inTransaction(logger: logger) { connection in
                        try await connection.run(
                            "SELECT set_config('statement_timeout', \(String(PostgresTimeouts.milliseconds(limit))), true)",
                            logger: logger)
                        return try await body(connection)
                    }
                }
            }
        } catch is PostgresDeadlinePassed {
            throw PostgresStoreError.timedOut(operation, server: url.server, after: limit)
        } catch {
            throw PostgresStoreError.classifying(error, operation: operation, server: url.server)
        }
    }
}

extension PostgresConnection {
    /// Runs `body` between BEGIN and COMMIT, or ROLLBACK when it throws; its
    /// error is rethrown as it is.
    func inTransaction<T: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await query("BEGIN", logger: logger)
        do {
            let value = try await body(self)
            try await query("COMMIT", logger: logger)
            return value
        } catch {
            _ = try? await query("ROLLBACK", logger: logger)
            throw error
        }
    }
}

extension PostgresConnection {
    /// Runs a statement whose rows, if any, are not needed.
    func run(_ statement: PostgresQuery, logger: Logger) async throws {
        _ = try await query(statement, logger: logger)
    }
}
