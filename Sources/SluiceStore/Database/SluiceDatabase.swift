import Foundation
import GRDB

/// The one SQLite database of a Sluice installation: a WAL-mode pool shared by
/// the cache, the usage writer and the stats queries.
///
/// Open it once per process and share it; every method is synchronous and
/// thread-safe (GRDB serialises writes and runs reads concurrently).
public final class SluiceDatabase: Sendable {
    /// The database file.
    public let path: String
    /// True for `openReadOnly`: every write fails.
    public let isReadOnly: Bool
    /// Identifiers of the migrations `open(path:)` applied (empty when the file was up to date).
    public let migrationsAppliedAtOpen: [String]
    package let pool: DatabasePool

    private init(path: String, isReadOnly: Bool, pool: DatabasePool, migrationsAppliedAtOpen: [String] = []) {
        self.path = path
        self.isReadOnly = isReadOnly
        self.pool = pool
        self.migrationsAppliedAtOpen = migrationsAppliedAtOpen
    }

    /// How long a statement waits for a lock held by another connection before failing.
    static let busyTimeout: TimeInterval = 5

    /// Opens (creating it and its folder if needed) the database for reading and
    /// writing, and applies every embedded migration it lacks.
    public static func open(path: String) throws -> SluiceDatabase {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                // Private to the daemon's user: the database holds answers and usage.
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw SluiceStoreError.cannotOpen(path: path, reason: "cannot create folder \(folder)")
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "sluice"
        // In WAL mode NORMAL never corrupts the database; a power cut may lose the
        // last commits, which for a cache and batched usage rows beats an fsync per write.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A burst of writes can grow the log; when it starts over, it is cut
            // back to this size instead of keeping its largest size on disk.
            try db.execute(sql: "PRAGMA journal_size_limit = \(Self.walSizeLimit)")
        }
        let pool = try makePool(path: path, configuration)
        let applied = try migrate(pool, path: path)
        return SluiceDatabase(path: path, isReadOnly: false, pool: pool, migrationsAppliedAtOpen: applied)
    }

    /// Opens an existing database for reading only, e.g. for `sluice stats` while the
    /// daemon writes. Never creates the file and never migrates: a missing file, or
    /// a schema older or newer than this binary's, is an error.
    public static func openReadOnly(path: String) throws -> SluiceDatabase {
        guard FileManager.default.fileExists(atPath: path) else {
            throw SluiceStoreError.missing(path: path)
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "sluice-readonly"
        let database = try SluiceDatabase(path: path, isReadOnly: true, pool: makePool(path: path, configuration))
        try database.checkSchemaIsCurrent()
        return database
    }

    private static func makePool(path: String, _ configuration: Configuration) throws -> DatabasePool {
        do {
            return try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw SluiceStoreError.cannotOpen(path: path, reason: SluiceStoreError.reason(for: error))
        }
    }

    // MARK: Running statements

    /// Runs `body` in a read transaction; SQLite errors become a `SluiceStoreError` naming `operation`.
    package func read<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as SluiceStoreError {
            throw error
        } catch {
            throw SluiceStoreError.failed(operation, path: path, reason: SluiceStoreError.reason(for: error))
        }
    }

    /// Runs `body`, a single statement, on a reader connection without wrapping it in
    /// a transaction: one SELECT is consistent by itself, and the hot cache-lookup
    /// path saves the BEGIN/COMMIT round trip.
    package func readSingleStatement<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.unsafeRead(body)
        } catch let error as SluiceStoreError {
            throw error
        } catch {
            throw SluiceStoreError.failed(operation, path: path, reason: SluiceStoreError.reason(for: error))
        }
    }

    /// Runs `body` in one write transaction; SQLite errors become a `SluiceStoreError` naming `operation`.
    /// A passive checkpoint: copies what it can of the write-ahead log into the
    /// database without waiting for readers; returns whether it copied it all.
    package func checkpoint() throws -> Bool {
        do {
            return try pool.writeWithoutTransaction { db in
                let log = try db.checkpoint(.passive)
                return log.checkpointedFrameCount >= log.walFrameCount
            }
        } catch {
            throw SluiceStoreError.failed("checkpoint", path: path, reason: SluiceStoreError.reason(for: error))
        }
    }

    /// Bytes the write-ahead log is cut back to when it restarts.
    static let walSizeLimit = 64 << 20

    package func write<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch let error as SluiceStoreError {
            throw error
        } catch {
            throw SluiceStoreError.failed(operation, path: path, reason: SluiceStoreError.reason(for: error))
        }
    }
}
