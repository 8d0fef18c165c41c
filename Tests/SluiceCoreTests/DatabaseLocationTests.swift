import SluiceCore
import XCTest

/// `db` names a SQLite file or a PostgreSQL URL, whose password is never shown.
final class DatabaseLocationTests: XCTestCase {
    func testTellsAURLFromAPath() {
        XCTAssertEqual(DatabaseLocation("/var/lib/sluice/sluice.db"), .sqlite(path: "/var/lib/sluice/sluice.db"))
        XCTAssertEqual(DatabaseLocation("postgresql://db.internal/sluice"), .postgresql(url: "postgresql://db.internal/sluice"))
        XCTAssertEqual(DatabaseLocation("POSTGRES://db/sluice"), .postgresql(url: "POSTGRES://db/sluice"))
        XCTAssertFalse(DatabaseLocation("postgresql.db").isPostgreSQL, "a file named like the scheme is a file")
    }

    func testRedactsThePasswordWhateverItHolds() {
        let cases: [(String, String)] = [
            ("postgresql://sluice:s3cret@db:5432/sluice", "postgresql://sluice:***@db:5432/sluice"),
            ("postgresql://sluice:p@ss/w:rd@db/sluice?sslmode=require", "postgresql://sluice:***@db/sluice?sslmode=require"),
            ("postgresql://sluice@db/sluice", "postgresql://sluice@db/sluice"),
            ("postgresql://db/sluice?user=sluice&password=hunter2", "postgresql://db/sluice?user=sluice&password=***"),
            ("postgres://:only-a-password@db/x", "postgres://:***@db/x"),
        ]
        for (url, shown) in cases {
            let redacted = DatabaseLocation(url).redacted
            XCTAssertEqual(redacted, shown)
            for secret in ["s3cret", "p@ss", "w:rd", "hunter2", "only-a-password"] {
                XCTAssertFalse(redacted.contains(secret), "\(secret) shown in \(redacted)")
            }
        }
        XCTAssertEqual(DatabaseLocation("/tmp/a:b@c.db").redacted, "/tmp/a:b@c.db", "a path is shown as it is")
    }

    func testTheDefaultSocketOfAFleetDaemonIsInItsStateFolder() {
        let environment = ["HOME": "/home/ana"]
        XCTAssertEqual(DefaultPaths.unixSocket(environment: environment, databasePath: "postgresql://db/sluice"),
                       "/home/ana/.local/state/sluice/sluice.sock")
        XCTAssertEqual(DefaultPaths.unixSocket(environment: ["RUNTIME_DIRECTORY": "/run/sluice"], databasePath: "postgresql://db/x"),
                       "/run/sluice/sluice.sock")
    }
}
