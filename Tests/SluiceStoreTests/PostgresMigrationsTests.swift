import PostgresNIO
@testable import SluiceStore
import XCTest

final class PostgresMigrationsTests: PostgresTestCase, @unchecked Sendable {
    private func open(_ url: PostgresURL, migrate: Bool = true) async throws -> PostgreSQLDatabase {
        try await PostgreSQLDatabase.open(url: url, timeouts: timeouts, migrate: migrate, logger: Self.quietLogger)
    }

    func testFirstOpenAppliesEveryMigrationAndTheNextNone() async throws {
        let url = try freshDatabaseURL()
        let first = try await open(url)
        XCTAssertEqual(first.migrationsAppliedAtOpen, PostgreSQLDatabase.knownMigrations)
        XCTAssertEqual(first.migrationsAppliedAtOpen, ["0001_initial", "0002_cache_purges", "0003_cache_flights", "0004_unlogged_coordination"])
        let second = try await open(url)
        XCTAssertEqual(second.migrationsAppliedAtOpen, [])
        let applied = try await second.withRunning { try await $0.appliedMigrations() }
        XCTAssertEqual(applied, Set(PostgreSQLDatabase.knownMigrations))
    }

    func testEveryTableExistsAfterMigrating() async throws {
        let url = try freshDatabaseURL()
        _ = try await open(url)
        let tables = try cluster.psql(
            "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'",
            database: url.database ?? "")
        XCTAssertEqual(tables, "cache_entries,cache_flights,cache_purges,cache_totals,rate_limit_buckets,sluice_migrations,spend,usage")
    }

    func testDaemonsStartingTogetherApplyEachMigrationOnce() async throws {
        let url = try freshDatabaseURL()
        let timeouts = self.timeouts
        let applied = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await PostgreSQLDatabase.open(url: url, timeouts: timeouts, logger: Self.quietLogger)
                        .migrationsAppliedAtOpen
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(applied.filter { !$0.isEmpty }, [PostgreSQLDatabase.knownMigrations])
        XCTAssertEqual(applied.filter(\.isEmpty).count, 3)
        XCTAssertEqual(try cluster.psql("SELECT count(*) FROM sluice_migrations", database: url.database ?? ""),
                       String(PostgreSQLDatabase.knownMigrations.count), "each applied once")
    }

    func testANewerSchemaIsRefused() async throws {
        let url = try freshDatabaseURL()
        _ = try await open(url)
        try cluster.psql("INSERT INTO sluice_migrations (identifier) VALUES ('9999_from_the_future')", database: url.database ?? "")
        for migrate in [true, false] {
            do {
                _ = try await open(url, migrate: migrate)
                XCTFail("opened a database migrated by a newer Sluice")
            } catch let error as PostgresStoreError {
                XCTAssertTrue(error.isNewerSchema, "\(error)")
                XCTAssertTrue("\(error)".contains("9999_from_the_future"), "\(error)")
            }
        }
    }

    func testOpeningWithoutMigratingNeedsACurrentSchema() async throws {
        let url = try freshDatabaseURL()
        do {
            _ = try await open(url, migrate: false)
            XCTFail("opened an empty database without migrating")
        } catch let error as PostgresStoreError {
            XCTAssertTrue("\(error)".contains("needs migrations 0001_initial"), "\(error)")
        }
        _ = try await open(url)
        let reader = try await open(url, migrate: false)
        XCTAssertEqual(reader.migrationsAppliedAtOpen, [])
    }

    func testAFailedMigrationLeavesNothingBehind() async throws {
        let url = try freshDatabaseURL()
        // A table in the way makes 0001 fail part way: its transaction rolls back whole.
        try cluster.psql("CREATE TABLE spend (x int)", database: url.database ?? "")
        do {
            _ = try await open(url)
            XCTFail("migrated over a conflicting table")
        } catch let error as PostgresStoreError {
            XCTAssertTrue("\(error)".contains("migration failed"), "\(error)")
            XCTAssertTrue("\(error)".contains("already exists"), "\(error)")
        }
        XCTAssertEqual(try cluster.psql("SELECT to_regclass('cache_entries') IS NULL", database: url.database ?? ""), "t")
    }
}
