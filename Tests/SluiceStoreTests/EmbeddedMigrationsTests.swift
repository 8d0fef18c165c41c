import Foundation
@testable import SluiceStore
import XCTest

/// The generated `EmbeddedMigrations.swift` must match `migrations/` exactly:
/// run `scripts/embed-migrations.sh` after changing a migration.
final class EmbeddedMigrationsTests: XCTestCase {
    private var migrationsFolder: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // SluiceStoreTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // repository root
            .appendingPathComponent("migrations")
    }

    func testEmbeddedMigrationsEqualTheSQLFilesByteForByte() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: migrationsFolder.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        XCTAssertFalse(files.isEmpty)
        XCTAssertEqual(EmbeddedMigrations.all.map(\.identifier), files.map { String($0.dropLast(4)) })
        for (file, migration) in zip(files, EmbeddedMigrations.all) {
            let onDisk = try Data(contentsOf: migrationsFolder.appendingPathComponent(file))
            XCTAssertEqual(Data(migration.sql.utf8), onDisk, "\(file) differs from its embedded copy; run scripts/embed-migrations.sh")
        }
    }

    func testMigrationNamesAreNumberedInOrder() {
        let identifiers = EmbeddedMigrations.all.map(\.identifier)
        XCTAssertEqual(identifiers, identifiers.sorted())
        for identifier in identifiers {
            XCTAssertNotNil(identifier.range(of: #"^[0-9]{4}_[a-z0-9_]+$"#, options: .regularExpression), identifier)
        }
    }
}
