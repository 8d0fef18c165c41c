import Foundation
import XCTest

/// The state folder and the database the daemon creates are private to its
/// user, whatever the umask (CONTRACT, "Files").
final class FileModeTests: DaemonTestCase {
    private var savedUmask: mode_t = 0

    override func setUp() async throws {
        try await super.setUp()
        // The usual umask, which alone would give 0755 folders and 0644 files.
        savedUmask = umask(0o022)
    }

    override func tearDown() async throws {
        umask(savedUmask)
        try await super.tearDown()
    }

    private func mode(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else {
            XCTFail("cannot stat \(path): errno \(errno)", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
        return info.st_mode & 0o7777
    }

    private func octal(_ mode: mode_t) -> String { "0" + String(mode, radix: 8) }

    private func assertPrivateFile(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let found = try mode(path, file: file, line: line)
        XCTAssertEqual(found & 0o077, 0, "\(path) has group/other bits: \(octal(found))", file: file, line: line)
        XCTAssertEqual(found, 0o600, "\(path) mode \(octal(found))", file: file, line: line)
    }

    func testServeCreatesAPrivateStateFolderAndDatabase() async throws {
        let parent = directory.file("new")
        let folder = parent + "/state"
        let database = folder + "/sluice.db"
        XCTAssertFalse(FileManager.default.fileExists(atPath: parent))
        var launch = defaultLaunch()
        launch.databasePath = database
        launch.socketPath = directory.file("modes.sock")  // not beside the database: only what it makes itself
        let daemon = try await startDaemon(launch)
        XCTAssertEqual(daemon.databasePath, database)

        // A write or two, so that the WAL and its index exist.
        for index in 0..<2 {
            let answer = try await http.post(chatPath, to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("mode \(index)"))
            XCTAssertEqual(answer.status, 200)
        }
        _ = try await eventually { ((try? UsageTable.rowsNow(at: database)) ?? []).count >= 2 }

        let folderMode = try mode(folder)
        XCTAssertEqual(folderMode, 0o700, "the state folder's mode is \(octal(folderMode))")
        let parentMode = try mode(parent)
        XCTAssertEqual(parentMode & 0o077, 0, "the folder made above it has group/other bits: \(octal(parentMode))")
        try assertPrivateFile(database)
        XCTAssertTrue(FileManager.default.fileExists(atPath: database + "-wal"), "no -wal file while the daemon runs")
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: database + suffix) {
            try assertPrivateFile(database + suffix)
        }
    }

    func testMigrateCreatesAPrivateDatabase() async throws {
        let folder = directory.file("fresh/db")
        let database = folder + "/migrated.db"
        let result = try await SluiceCommand.run(["migrate", "--db", database], in: directory)
        XCTAssertEqual(result.exitCode, 0, result.standardError)
        try assertPrivateFile(database)
        let folderMode = try mode(folder)
        XCTAssertEqual(folderMode & 0o077, 0, "the folder migrate made has group/other bits: \(octal(folderMode))")
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: database + suffix) {
            try assertPrivateFile(database + suffix)
        }
    }
}
