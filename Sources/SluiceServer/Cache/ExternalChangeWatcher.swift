import GRDB
import NIOConcurrencyHelpers
import SluiceStore

/// Tells whether another process committed to the database since the last check.
///
/// SQLite's `PRAGMA data_version` changes, on one connection, when *other*
/// connections commit; asked on the pool's writer connection, the daemon's own
/// writes do not count, and another process's writes (the CLI) do.
final class ExternalChangeWatcher: Sendable {
    private let database: SluiceDatabase
    private let lastVersion = NIOLockedValueBox<Int?>(nil)

    init(database: SluiceDatabase) {
        self.database = database
    }

    func changedSinceLastCheck() throws -> Bool {
        let version = try database.pool.writeWithoutTransaction { db in
            try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0
        }
        return lastVersion.withLockedValue { last in
            defer { last = version }
            return last.map { $0 != version } ?? false
        }
    }
}
