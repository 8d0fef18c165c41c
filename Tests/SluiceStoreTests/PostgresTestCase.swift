import PostgresTestSupport
import Foundation
import Logging
@testable import SluiceStore
import XCTest

/// A test class against its own throwaway PostgreSQL cluster, started once in
/// `class setUp` and removed in `class tearDown`. Each test gets a database of
/// its own (`withDatabase`), migrated, with the pool running.
///
/// Without PostgreSQL every test fails with the reason, or is skipped with
/// `SLUICE_SKIP_POSTGRES_TESTS=1` (see `PostgresTestCluster`). Sendable so that
/// tests can act as several daemons at once: nothing in it changes after `setUp`.
class PostgresTestCase: XCTestCase, @unchecked Sendable {
    /// Whether the cluster also speaks TLS.
    class var clusterUsesTLS: Bool { false }

    nonisolated(unsafe) private static var clusters: [ObjectIdentifier: Result<PostgresTestCluster, any Error>] = [:]

    override class func setUp() {
        super.setUp()
        clusters[ObjectIdentifier(self)] = Result { try PostgresTestCluster.start(tls: clusterUsesTLS) }
    }

    override class func tearDown() {
        if case .success(let cluster) = clusters.removeValue(forKey: ObjectIdentifier(self)) {
            cluster.stop()
        }
        super.tearDown()
    }

    /// This class's cluster; throws why there is none (a failure, or a skip).
    var cluster: PostgresTestCluster {
        get throws {
            guard let result = Self.clusters[ObjectIdentifier(type(of: self))] else {
                throw PostgresTestCluster.Failure(description: "the cluster was not started")
            }
            return try result.get()
        }
    }

    override func setUp() async throws {
        try await super.setUp()
        _ = try cluster
    }

    /// Short timeouts: a test that waits on a broken server fails fast.
    let timeouts = PostgresTimeouts(
        connect: .seconds(5), query: .seconds(10), report: .seconds(30), migration: .seconds(30))

    /// The URL of a new database of this test's.
    func freshDatabaseURL() throws -> PostgresURL {
        let cluster = try cluster
        return try PostgresURL(parsing: cluster.url(database: try cluster.createDatabase()))
    }

    /// Opens `url` (migrating it) and runs `body` while the pool runs.
    func withDatabase<T: Sendable>(
        _ url: PostgresURL, maximumConnections: Int = 4, _ body: (PostgreSQLDatabase) async throws -> T
    ) async throws -> T {
        let database = try await PostgreSQLDatabase.open(
            url: url, timeouts: timeouts, maximumConnections: maximumConnections, logger: Self.quietLogger)
        return try await database.withRunning(body)
    }

    /// Runs `body` against a new database of this test's.
    func withFreshDatabase<T: Sendable>(_ body: (PostgreSQLDatabase) async throws -> T) async throws -> T {
        try await withDatabase(try freshDatabaseURL(), body)
    }

    static let quietLogger = Logger(label: "sluice.postgresql.tests") { _ in SwiftLogNoOpLogHandler() }
}
