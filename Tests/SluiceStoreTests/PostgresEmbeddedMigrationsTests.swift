import Foundation
@testable import SluiceStore
import XCTest

/// The generated `PostgresEmbeddedMigrations.swift` must match
/// `migrations/postgresql/` exactly: run `scripts/embed-postgresql-migrations.sh`
/// after changing a migration there.
final class PostgresEmbeddedMigrationsTests: XCTestCase {
    private var migrationsFolder: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // SluiceStoreTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // repository root
            .appendingPathComponent("migrations/postgresql")
    }

    func testEmbeddedMigrationsEqualTheSQLFilesByteForByte() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: migrationsFolder.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        XCTAssertFalse(files.isEmpty)
        XCTAssertEqual(PostgresEmbeddedMigrations.all.map(\.identifier), files.map { String($0.dropLast(4)) })
        for (file, migration) in zip(files, PostgresEmbeddedMigrations.all) {
            let onDisk = try Data(contentsOf: migrationsFolder.appendingPathComponent(file))
            XCTAssertEqual(Data(migration.sql.utf8), onDisk,
                           "\(file) differs from its embedded copy; run scripts/embed-postgresql-migrations.sh")
        }
    }

    func testMigrationNamesAreNumberedInOrder() {
        let identifiers = PostgresEmbeddedMigrations.all.map(\.identifier)
        XCTAssertEqual(identifiers, identifiers.sorted())
        for identifier in identifiers {
            XCTAssertNotNil(identifier.range(of: #"^[0-9]{4}_[a-z0-9_]+$"#, options: .regularExpression), identifier)
        }
    }

    func testEveryMigrationCanBeQuotedForTheMigrator() {
        for migration in PostgresEmbeddedMigrations.all {
            XCTAssertNoThrow(try PostgresMigrator.runnable(migration.sql, server: "test"), migration.identifier)
        }
        XCTAssertThrowsError(try PostgresMigrator.runnable("SELECT $sluice_migration$x$sluice_migration$", server: "test"))
    }
}
