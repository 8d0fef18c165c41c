import Foundation
import GRDB
import SluiceCore
@testable import SluiceStore
import XCTest

final class SluiceDatabaseTests: XCTestCase {
    func testOpenCreatesFolderAndAppliesEveryMigration() throws {
        let scratch = try ScratchFolder()
        let path = scratch.file("nested/state/sluice.db")
        let database = try SluiceDatabase.open(path: path)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(database.migrationsAppliedAtOpen, SluiceDatabase.knownMigrations)
        XCTAssertEqual(try database.appliedMigrations(), Set(SluiceDatabase.knownMigrations))
        let tables = try database.pool.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }
        XCTAssertTrue(tables.contains("cache_entries"))
        XCTAssertTrue(tables.contains("usage"))
        let journalMode = try database.pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(journalMode, "wal")
    }

    func testMigratingAgainIsANoOp() throws {
        let scratch = try ScratchFolder()
        let path = scratch.file("sluice.db")
        let first = try SluiceDatabase.open(path: path)
        XCTAssertEqual(try first.migrate(), [])
        let reopened = try SluiceDatabase.open(path: path)
        XCTAssertEqual(reopened.migrationsAppliedAtOpen, [])
    }

    func testDatabaseFromANewerSluiceIsRefused() throws {
        let scratch = try ScratchFolder()
        let path = scratch.file("sluice.db")
        let database = try SluiceDatabase.open(path: path)
        try database.pool.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('9999_from_the_future')") }

        let openError = assertStoreError(try SluiceDatabase.open(path: path))
        XCTAssertEqual(openError?.isNewerSchema, true)
        XCTAssertTrue(openError?.description.contains("9999_from_the_future") == true)
        XCTAssertTrue(openError?.description.contains(path) == true)
        XCTAssertEqual(assertStoreError(try database.migrate())?.isNewerSchema, true)
        XCTAssertEqual(assertStoreError(try SluiceDatabase.openReadOnly(path: path))?.isNewerSchema, true)
    }

    func testGarbageFileIsAOneLineErrorNamingThePath() throws {
        let scratch = try ScratchFolder()
        let path = scratch.file("not-a-database.db")
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))

        for open in [SluiceDatabase.open(path:), SluiceDatabase.openReadOnly(path:)] {
            let error = assertStoreError(try open(path))
            let description = error?.description ?? ""
            XCTAssertTrue(description.hasPrefix("cannot open database at \(path)"), description)
            XCTAssertFalse(description.contains("\n"))
        }
    }

    func testUnreadableFolderIsAClearError() throws {
        let scratch = try ScratchFolder()
        let blocker = scratch.file("file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        let error = assertStoreError(try SluiceDatabase.open(path: blocker + "/sluice.db"))
        XCTAssertTrue(error?.description.contains(blocker) == true, error?.description ?? "")
    }

    func testReadOnlyOpenOfAMissingFileFailsAndCreatesNothing() throws {
        let scratch = try ScratchFolder()
        let path = scratch.file("missing.db")
        let error = assertStoreError(try SluiceDatabase.openReadOnly(path: path))
        XCTAssertEqual(error?.isMissing, true)
        XCTAssertTrue(error?.description.contains(path) == true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testReadOnlyOpenOfAnUnmigratedFileAsksForMigrate() throws {
        let scratch = try ScratchFolder()
        let path = scratch.file("empty.db")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let error = assertStoreError(try SluiceDatabase.openReadOnly(path: path))
        XCTAssertTrue(error?.description.contains("sluice migrate") == true, error?.description ?? "")
    }

    func testReadOnlyDatabaseRefusesWrites() throws {
        let scratch = try ScratchFolder()
        let path = scratch.file("sluice.db")
        _ = try SluiceDatabase.open(path: path)
        let readOnly = try SluiceDatabase.openReadOnly(path: path)
        XCTAssertTrue(readOnly.isReadOnly)
        XCTAssertNotNil(assertStoreError(try UsageStore(database: readOnly).insert([UsageRows.make(at: 1)])))
    }

    func testReadOnlyReaderSeesRowsWhileAWriterKeepsWriting() throws {
        let scratch = try ScratchFolder()
        let path = scratch.file("sluice.db")
        let writer = try SluiceDatabase.open(path: path)
        let usage = UsageStore(database: writer)
        try usage.insert([UsageRows.make(at: 1_000)])

        let reader = try SluiceDatabase.openReadOnly(path: path)
        let reporter = StatsReporter(database: reader)
        let writes = DispatchGroup()
        let writeErrors = LockedErrors()
        DispatchQueue.global().async(group: writes) {
            do {
                for batch in 0..<50 {
                    try usage.insert((0..<100).map { UsageRows.make(at: 2_000 + Double(batch * 100 + $0)) })
                }
            } catch {
                writeErrors.append(error)
            }
        }
        var previous = 0
        for _ in 0..<30 {
            let requests = try reporter.report(StatsQuery()).totals.requests
            XCTAssertGreaterThanOrEqual(requests, previous)
            previous = requests
        }
        writes.wait()
        XCTAssertTrue(writeErrors.isEmpty)
        XCTAssertEqual(try reporter.report(StatsQuery()).totals.requests, 1 + 50 * 100)
    }
}

/// Errors collected from another thread.
final class LockedErrors: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [any Error] = []

    func append(_ error: any Error) {
        lock.withLock { errors.append(error) }
    }

    var isEmpty: Bool {
        lock.withLock { errors.isEmpty }
    }
}
