import PostgresNIO
@testable import SluiceStore
import XCTest

/// `sslmode` against a cluster that speaks TLS with a self-signed certificate for `localhost`.
final class PostgresTLSTests: PostgresTestCase, @unchecked Sendable {
    override class var clusterUsesTLS: Bool { true }

    private func url(host: String = "127.0.0.1", _ query: String) throws -> PostgresURL {
        let cluster = try cluster
        return try PostgresURL(parsing:
            "postgresql://\(cluster.role):\(cluster.password)@\(host):\(cluster.port)/\(try cluster.createDatabase())?\(query)")
    }

    /// Whether the session of a pooled connection is encrypted.
    private func usesTLS(_ url: PostgresURL) async throws -> Bool? {
        try await withDatabase(url) { database in
            try await database.client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .collect().first?.decode(Bool.self)
        }
    }

    func testRequireEncryptsWithoutCheckingTheCertificate() async throws {
        let encrypted = try await usesTLS(try url("sslmode=require"))
        XCTAssertEqual(encrypted, true)
    }

    func testPreferEncryptsWhenTheServerOffersIt() async throws {
        let encrypted = try await usesTLS(try url("sslmode=prefer"))
        XCTAssertEqual(encrypted, true)
    }

    func testDisableStaysInTheClear() async throws {
        let encrypted = try await usesTLS(try url("sslmode=disable"))
        XCTAssertEqual(encrypted, false)
    }

    func testVerifyFullAcceptsTheServerSignedByTheGivenRoot() async throws {
        let root = try XCTUnwrap(try cluster.certificatePath)
        let encrypted = try await usesTLS(try url(host: "localhost", "sslmode=verify-full&sslrootcert=\(root)"))
        XCTAssertEqual(encrypted, true)
    }

    func testVerifyFullRefusesACertificateNoTrustedRootSigned() async throws {
        let target = try url(host: "localhost", "sslmode=verify-full")
        do {
            _ = try await PostgreSQLDatabase.open(url: target, timeouts: timeouts, logger: Self.quietLogger)
            XCTFail("trusted a self-signed certificate")
        } catch let error as PostgresStoreError {
            XCTAssertTrue("\(error)".hasPrefix("cannot connect to PostgreSQL at"), "\(error)")
            XCTAssertTrue("\(error)".contains("certificate is not trusted"), "\(error)")
            XCTAssertFalse("\(error)".contains(try cluster.password))
        }
    }

    func testAMissingRootFileIsAClearError() async throws {
        let target = try url(host: "localhost", "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
        do {
            _ = try await PostgreSQLDatabase.open(url: target, timeouts: timeouts, logger: Self.quietLogger)
            XCTFail("opened with a missing root file")
        } catch let error as PostgresStoreError {
            XCTAssertTrue("\(error)".contains("/nonexistent/ca.pem"), "\(error)")
        }
    }
}
