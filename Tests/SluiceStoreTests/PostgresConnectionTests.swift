import PostgresTestSupport
import Foundation
import PostgresNIO
@testable import SluiceStore
import XCTest

/// Failures to connect, in words a person can act on, quickly, never with the password.
final class PostgresConnectionTests: PostgresTestCase, @unchecked Sendable {
    private func openError(_ text: String, timeouts: PostgresTimeouts? = nil) async throws -> PostgresStoreError {
        let url = try PostgresURL(parsing: text)
        do {
            _ = try await PostgreSQLDatabase.open(url: url, timeouts: timeouts ?? self.timeouts, logger: Self.quietLogger)
        } catch let error as PostgresStoreError {
            return error
        }
        throw PostgresTestCluster.Failure(description: "opened \(url)")
    }

    func testConnectsOverTCPWithThePassword() async throws {
        let count = try await withFreshDatabase { database in
            try await database.client.query("SELECT 41 + 1").collect().first?.decode(Int.self)
        }
        XCTAssertEqual(count, 42)
    }

    func testConnectsOverTheUnixSocket() async throws {
        let cluster = try cluster
        let name = try cluster.createDatabase()
        let url = try PostgresURL(parsing: "postgresql://\(cluster.role)@:\(cluster.port)/\(name)?host=\(cluster.socketDirectory)")
        let user = try await withDatabase(url) { database in
            try await database.client.query("SELECT current_user").collect().first?.decode(String.self)
        }
        XCTAssertEqual(user, cluster.role)
    }

    func testPasswordFromTheEnvironmentLogsIn() async throws {
        let cluster = try cluster
        let url = try PostgresURL(parsing: "postgresql://\(cluster.role)@127.0.0.1:\(cluster.port)/\(try cluster.createDatabase())?sslmode=disable")
            .resolvingPassword(environment: ["PGPASSWORD": cluster.password])
        let answer = try await withDatabase(url) { database in
            try await database.client.query("SELECT 1").collect().count
        }
        XCTAssertEqual(answer, 1)
    }

    func testAWrongPasswordIsAClearErrorWithoutThePassword() async throws {
        let cluster = try cluster
        let started = ContinuousClock.now
        let error = try await openError("postgresql://\(cluster.role):Wr0ng-Secret-Pa55@127.0.0.1:\(cluster.port)/postgres?sslmode=disable")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
        XCTAssertTrue(error.isLoginRefused, "\(error)")
        XCTAssertEqual("\(error)", """
            PostgreSQL at sluice@127.0.0.1:\(cluster.port)/postgres refused the login: \
            password authentication failed for user "sluice" (SQLSTATE 28P01)
            """)
        XCTAssertFalse(String(reflecting: error).contains("Wr0ng-Secret-Pa55"))
    }

    func testNoPasswordWhenOneIsNeededSaysWhereToPutIt() async throws {
        let cluster = try cluster
        let error = try await openError("postgresql://\(cluster.role)@127.0.0.1:\(cluster.port)/postgres?sslmode=disable")
        XCTAssertTrue(error.isLoginRefused, "\(error)")
        XCTAssertTrue("\(error)".contains("PGPASSWORD"), "\(error)")
    }

    func testAMissingDatabaseIsAClearError() async throws {
        let cluster = try cluster
        let error = try await openError(cluster.url(database: "no_such_database"))
        XCTAssertTrue("\(error)".contains(#"database "no_such_database" does not exist"#), "\(error)")
        XCTAssertFalse("\(error)".contains(cluster.password))
    }

    func testNothingListeningIsAClearErrorAtOnce() async throws {
        let port = try PostgresTestCluster.freeLoopbackPort()
        let started = ContinuousClock.now
        let error = try await openError("postgresql://sluice:secret-pw@127.0.0.1:\(port)/sluice?sslmode=disable")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))
        XCTAssertTrue("\(error)".hasPrefix("cannot connect to PostgreSQL at sluice@127.0.0.1:\(port)/sluice: "), "\(error)")
        XCTAssertTrue("\(error)".hasSuffix(": connection refused"), "\(error)")
        XCTAssertFalse("\(error)".contains("secret-pw"))
    }

    func testAServerThatNeverAnswersTimesOutInBoundedTime() async throws {
        let silent = try LoopbackSocket(listen: true)
        var timeouts = self.timeouts
        timeouts.connect = .milliseconds(500)
        let started = ContinuousClock.now
        let error = try await openError(
            "postgresql://sluice:secret-pw@127.0.0.1:\(silent.port)/sluice?sslmode=disable", timeouts: timeouts)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))
        XCTAssertTrue(error.isTimeout, "\(error)")
        XCTAssertEqual("\(error)", "connecting on PostgreSQL at sluice@127.0.0.1:\(silent.port)/sluice got no answer within 0.5 s")
    }

    func testTheURLConnectTimeoutWins() async throws {
        let silent = try LoopbackSocket(listen: true)
        let started = ContinuousClock.now
        let error = try await openError(
            "postgresql://sluice@127.0.0.1:\(silent.port)/sluice?sslmode=disable&connect_timeout=1")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))
        XCTAssertTrue("\(error)".hasSuffix("got no answer within 1 s"), "\(error)")
    }

    func testAStuckQueryEndsAtItsDeadlineAndThePoolRecovers() async throws {
        try await withFreshDatabase { database in
            let started = ContinuousClock.now
            do {
                try await database.perform("sleeping", within: .milliseconds(500)) { connection in
                    // Lifts the server's own limit: only the client's deadline can end this.
                    try await connection.run("SET statement_timeout = 0", logger: Self.quietLogger)
                    try await connection.run("SELECT pg_sleep(20)", logger: Self.quietLogger)
                }
                XCTFail("the sleep ended by itself")
            } catch let error as PostgresStoreError {
                XCTAssertTrue(error.isTimeout, "\(error)")
            }
            XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))
            let answer = try await database.perform("after") { connection in
                try await connection.query("SELECT 7", logger: Self.quietLogger).collect().first?.decode(Int.self)
            }
            XCTAssertEqual(answer, 7)
        }
    }

    func testTheServerEndsStatementsPastTheQueryTimeout() async throws {
        let url = try freshDatabaseURL()
        var timeouts = self.timeouts
        timeouts.query = .milliseconds(300)
        let database = try await PostgreSQLDatabase.open(url: url, timeouts: timeouts, logger: Self.quietLogger)
        try await database.withRunning { database in
            let setting = try await database.client.query("SHOW statement_timeout").collect().first?.decode(String.self)
            XCTAssertEqual(setting, "300ms")
        }
    }
}
