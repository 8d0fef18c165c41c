import Foundation
@testable import SluiceStore
import XCTest

final class PostgresURLTests: XCTestCase {
    private func parse(_ text: String) throws -> PostgresURL {
        try PostgresURL(parsing: text)
    }

    /// The reason `text` is refused; fails the test when it parses.
    private func refusal(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try PostgresURL(parsing: text)
            XCTFail("\(text) parsed", file: file, line: line)
            return ""
        } catch {
            return String(describing: error)
        }
    }

    func testFullURLParses() throws {
        let url = try parse("postgresql://sluice:s3cret@db.internal:6432/fleet?sslmode=verify-full&sslrootcert=/etc/ca.pem&connect_timeout=3")
        XCTAssertEqual(url, PostgresURL(
            user: "sluice", password: "s3cret", endpoint: .tcp(host: "db.internal", port: 6432), database: "fleet",
            sslMode: .verifyFull, rootCertificatePath: "/etc/ca.pem", connectTimeout: .seconds(3)))
    }

    func testDefaultsPortSSLModeAndDatabase() throws {
        let url = try parse("postgres://sluice@db")
        XCTAssertEqual(url.endpoint, .tcp(host: "db", port: 5432))
        XCTAssertNil(url.password)
        XCTAssertNil(url.database)
        XCTAssertEqual(url.sslMode, .prefer)
        XCTAssertEqual(url.server, "sluice@db:5432/sluice")
    }

    func testSchemeIsCaseInsensitiveAndRecognised() throws {
        XCTAssertNoThrow(try parse("PostgreSQL://sluice@db/x"))
        XCTAssertTrue(PostgresURL.isPostgresURL("postgres://x@y"))
        XCTAssertTrue(PostgresURL.isPostgresURL("POSTGRESQL://x@y"))
        XCTAssertFalse(PostgresURL.isPostgresURL("/var/lib/sluice/sluice.db"))
        XCTAssertFalse(PostgresURL.isPostgresURL("mysql://x@y"))
    }

    func testUserPasswordAndDatabaseArePercentDecoded() throws {
        let url = try parse("postgresql://us%40er:p%3Aa%2Fss%25w@rd@db/my%20db")
        XCTAssertEqual(url.user, "us@er")
        XCTAssertEqual(url.password, "p:a/ss%w@rd")
        XCTAssertEqual(url.database, "my db")
    }

    func testIPv6HostInBrackets() throws {
        XCTAssertEqual(try parse("postgresql://u@[::1]:5433/d").endpoint, .tcp(host: "::1", port: 5433))
        XCTAssertEqual(try parse("postgresql://u@[fe80::1]/d").endpoint, .tcp(host: "fe80::1", port: 5432))
        XCTAssertEqual(try parse("postgresql://u:pw@[::1]:5433/d").server, "u@[::1]:5433/d")
    }

    func testUnixSocketFolderFromHostParameterOrEncodedHost() throws {
        XCTAssertEqual(try parse("postgresql://u@/d?host=/run/postgresql").endpoint,
                       .unixSocket(directory: "/run/postgresql", port: 5432))
        XCTAssertEqual(try parse("postgresql://u@:6000/d?host=%2Ftmp%2Fpg").endpoint,
                       .unixSocket(directory: "/tmp/pg", port: 6000))
        XCTAssertEqual(try parse("postgresql://u@%2Frun%2Fpostgresql/d").endpoint,
                       .unixSocket(directory: "/run/postgresql", port: 5432))
        XCTAssertEqual(PostgresConnectionSettings.socketPath(directory: "/run/postgresql", port: 5432),
                       "/run/postgresql/.s.PGSQL.5432")
    }

    func testEverySSLModeParses() throws {
        for mode in PostgresURL.SSLMode.allCases {
            XCTAssertEqual(try parse("postgresql://u@h/d?sslmode=\(mode.rawValue)").sslMode, mode)
        }
    }

    func testBadURLsAreRefusedWithAReason() {
        XCTAssertTrue(refusal("mysql://u@h/d").contains("postgresql://"))
        XCTAssertTrue(refusal("postgresql://h/d").contains("no user"))
        XCTAssertTrue(refusal("postgresql://u@/d").contains("no host"))
        XCTAssertTrue(refusal("postgresql://u@h:0/d").contains("port"))
        XCTAssertTrue(refusal("postgresql://u@h:99999/d").contains("port"))
        XCTAssertTrue(refusal("postgresql://u@h:x/d").contains("port"))
        XCTAssertTrue(refusal("postgresql://u@h/d?sslmode=always").contains("sslmode must be one of"))
        XCTAssertTrue(refusal("postgresql://u@h/d?application_name=x").contains("unknown parameter 'application_name'"))
        XCTAssertTrue(refusal("postgresql://u@h/d?sslmode").contains("=value"))
        XCTAssertTrue(refusal("postgresql://u@h1,h2/d").contains("several hosts"))
        XCTAssertTrue(refusal("postgresql://u@h/a/b").contains("database name"))
        XCTAssertTrue(refusal("postgresql://u@[::1/d").contains("IPv6"))
        XCTAssertTrue(refusal("postgresql://u@h/d?connect_timeout=0").contains("connect_timeout"))
    }

    func testRefusalsNeverQuoteThePassword() {
        for text in [
            "postgresql://u:hunter2-secret@h:badport/d",
            "postgresql://u:hunter2-secret@h/d?sslmode=nope",
            "postgresql://u:hunter2-secret@h/d?what=hunter2",
            "postgresql://u:hunter2-secret%zz@h/d",
            "postgresql://:hunter2-secret@h/d",
        ] {
            let reason = refusal(text)
            XCTAssertFalse(reason.contains("hunter2"), reason)
            XCTAssertTrue(reason.hasPrefix("invalid PostgreSQL URL: "), reason)
        }
    }

    func testRedactedMasksThePassword() throws {
        let url = try parse("postgresql://sluice:hunter2@db.internal/sluice")
        XCTAssertEqual(url.redacted, "postgresql://sluice:***@db.internal/sluice")
        XCTAssertEqual(url.description, url.redacted)
        XCTAssertEqual("\(url)", url.redacted)
        XCTAssertFalse(String(reflecting: url).contains("hunter2"))
        XCTAssertEqual(try parse("postgresql://sluice@db/x").redacted, "postgresql://sluice@db/x")
    }

    func testRedactedKeepsWhatIsNotTheDefault() throws {
        let url = try parse("postgresql://a%20b:pw@[::1]:6432/d?sslmode=require&sslrootcert=/etc/ca.pem&connect_timeout=7")
        XCTAssertEqual(url.redacted, "postgresql://a%20b:***@[::1]:6432/d?sslmode=require&sslrootcert=/etc/ca.pem&connect_timeout=7")
        XCTAssertEqual(try parse(url.redacted).endpoint, url.endpoint)
        XCTAssertEqual(try parse("postgresql://u@/d?host=/run/pg").redacted, "postgresql://u@/d?host=/run/pg")
    }

    // MARK: Password sources

    func testPasswordInTheURLWins() throws {
        let url = try parse("postgresql://u:from-url@h/d").resolvingPassword(environment: ["PGPASSWORD": "from-env"])
        XCTAssertEqual(url.password, "from-url")
    }

    func testPasswordFromPGPASSWORD() throws {
        let url = try parse("postgresql://u@h/d").resolvingPassword(environment: ["PGPASSWORD": "from-env"])
        XCTAssertEqual(url.password, "from-env")
    }

    func testPasswordFromTheSystemdCredential() throws {
        let scratch = try ScratchFolder()
        try Data("from-credential\n".utf8).write(to: URL(fileURLWithPath: scratch.file("db_password")))
        let url = try parse("postgresql://u@h/d").resolvingPassword(environment: ["CREDENTIALS_DIRECTORY": scratch.path])
        XCTAssertEqual(url.password, "from-credential")
        // PGPASSWORD comes before the credential; an empty one counts as none.
        XCTAssertEqual(try parse("postgresql://u@h/d").resolvingPassword(
            environment: ["PGPASSWORD": "env", "CREDENTIALS_DIRECTORY": scratch.path]).password, "env")
        XCTAssertEqual(try parse("postgresql://u@h/d").resolvingPassword(
            environment: ["PGPASSWORD": "", "CREDENTIALS_DIRECTORY": scratch.path]).password, "from-credential")
        // systemd may pass several folders, separated by colons: the first is the service's.
        XCTAssertEqual(try parse("postgresql://u@h/d").resolvingPassword(
            environment: ["CREDENTIALS_DIRECTORY": scratch.path + ":/nonexistent"]).password, "from-credential")
    }

    func testCredentialKeepsAllButOneFinalLineBreak() throws {
        let scratch = try ScratchFolder()
        try Data("  two\nlines \r\n".utf8).write(to: URL(fileURLWithPath: scratch.file("db_password")))
        let url = try parse("postgresql://u@h/d").resolvingPassword(environment: ["CREDENTIALS_DIRECTORY": scratch.path])
        XCTAssertEqual(url.password, "  two\nlines ")
    }

    func testAnUnreadableCredentialIsAClearError() throws {
        let scratch = try ScratchFolder()
        try Data([0x73, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: scratch.file("db_password")))
        XCTAssertThrowsError(try parse("postgresql://u@h/d").resolvingPassword(
            environment: ["CREDENTIALS_DIRECTORY": scratch.path])) { error in
            XCTAssertEqual("\(error)", """
                cannot read the PostgreSQL password: the credential db_password in \(scratch.path) is not readable UTF-8 text
                """)
        }
    }

    func testNoPasswordAnywhereLeavesNone() throws {
        let scratch = try ScratchFolder()
        XCTAssertNil(try parse("postgresql://u@h/d").resolvingPassword(environment: [:]).password)
        XCTAssertNil(try parse("postgresql://u@h/d").resolvingPassword(
            environment: ["CREDENTIALS_DIRECTORY": scratch.path]).password)
    }

    // MARK: TLS

    func testSSLModesChooseTLSUseAndVerification() throws {
        func use(_ query: String) throws -> PostgresURL.TLSUse {
            try parse("postgresql://u@h/d?" + query).tlsUse
        }
        guard case .never = try use("sslmode=disable") else { return XCTFail("disable") }
        guard case .ifOffered(let prefer) = try use("sslmode=prefer") else { return XCTFail("prefer") }
        XCTAssertEqual(prefer.certificateVerification, .none)
        guard case .always(let require) = try use("sslmode=require") else { return XCTFail("require") }
        XCTAssertEqual(require.certificateVerification, .none)
        guard case .always(let requireWithRoot) = try use("sslmode=require&sslrootcert=/ca.pem") else { return XCTFail("require") }
        XCTAssertEqual(requireWithRoot.certificateVerification, .noHostnameVerification)
        guard case .always(let verifyCA) = try use("sslmode=verify-ca") else { return XCTFail("verify-ca") }
        XCTAssertEqual(verifyCA.certificateVerification, .noHostnameVerification)
        guard case .always(let verifyFull) = try use("sslmode=verify-full") else { return XCTFail("verify-full") }
        XCTAssertEqual(verifyFull.certificateVerification, .fullVerification)
        guard case .never = try parse("postgresql://u@/d?host=/run/pg&sslmode=require").tlsUse else {
            return XCTFail("a Unix socket never uses TLS")
        }
    }
}
