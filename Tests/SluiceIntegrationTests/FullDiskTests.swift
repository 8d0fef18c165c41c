import Foundation
import XCTest

/// The real daemon with its database on a full filesystem (a small tmpfs,
/// filled up): it keeps answering, logs the failures a few times rather than
/// once per request, says so in `/healthz`, and catches up once there is room.
///
/// Mounting needs root (as the test runs here and in CI); elsewhere it is skipped.
final class FullDiskTests: DaemonTestCase {
    private var mountPoint: String?

    override func tearDown() async throws {
        // The daemons stop first: a mounted tmpfs with open files will not unmount.
        try await super.tearDown()
        if let mountPoint {
            if Self.run("/bin/umount", [mountPoint]) != 0 {
                _ = Self.run("/bin/umount", ["-l", mountPoint])
            }
            try? FileManager.default.removeItem(atPath: mountPoint)
            self.mountPoint = nil
        }
    }

    func testAFullDiskIsLoggedAFewTimesShownInHealthzAndCaughtUpOnOnceThereIsRoom() async throws {
        let folder = try mountSmallTmpfs(size: "4m")
        // Limits high enough for the burst of requests below.
        let config = try writeConfig("limits: {default: {requests_per_minute: 100000, burst: 10000, tokens_per_minute: 100000000}}\n")
        var launch = launch(config: config)
        launch.databasePath = folder + "/sluice.db"
        let daemon = try await startDaemon(launch)
        let endpoint = try daemon.endpoint(.tcp)

        // Before: all is well, and the flusher writes.
        let warmUp = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("before the disk filled"))
        XCTAssertEqual(warmUp.status, 200)
        let firstRow = try await eventually(within: .seconds(5)) { self.usageRowCount(daemon) == 1 }
        XCTAssertTrue(firstRow, "the warm-up row was not written")
        try await assertHealthz(daemon, is: #"{"status":"ok"}"#)

        let filler = folder + "/filler"
        let filled = try Self.fillFilesystem(with: filler)
        XCTAssertGreaterThan(filled, 0)

        // Distinct misses: each answer is a cache store and each request a usage row, all failing.
        let padding = String(repeating: "x", count: 2_000)
        let count = 300
        let statuses = try await sendChats(count, to: endpoint) { "full disk \($0) \(padding)" }
        XCTAssertEqual(statuses.filter { $0 == 200 }.count, count, "every request is answered while the disk is full: \(Set(statuses))")

        let failing = try await eventually(within: .seconds(5)) {
            self.storeFailureLines(daemon) >= 1 && self.usageFailureLines(daemon) >= 1
        }
        XCTAssertTrue(failing, "no store or usage failure logged; stderr:\n\(daemon.standardError.suffix(3000))")
        // Let the usage flusher retry a few more times (once a second).
        try await Task.sleep(for: .seconds(3))
        XCTAssertLessThanOrEqual(storeFailureLines(daemon), 10, "store failures flood the log:\n\(daemon.standardError.suffix(3000))")
        XCTAssertLessThanOrEqual(usageFailureLines(daemon), 10, "usage failures flood the log:\n\(daemon.standardError.suffix(3000))")
        try await assertHealthz(daemon, is: #"{"status":"ok","database":"failing"}"#)
        let metrics = try await http.get("/metrics", to: endpoint)
        XCTAssertTrue(String(decoding: metrics.body, as: UTF8.self).contains(#"sluice_failures_total{kind="cache_store"}"#))
        XCTAssertTrue(daemon.isRunning)

        // Room again: the rows kept in memory arrive, and new answers are stored.
        try FileManager.default.removeItem(atPath: filler)
        let after = try await sendChats(3, to: endpoint) { "after the disk was freed \($0)" }
        XCTAssertEqual(after, [200, 200, 200])
        let expectedRows = 1 + count + 3
        var rows = 0
        let caughtUp = try await eventually(within: .seconds(15)) {
            rows = self.usageRowCount(daemon)
            return rows == expectedRows
        }
        XCTAssertTrue(caughtUp, "usage rows after the disk was freed: \(rows), expected \(expectedRows)")
        let body = try await waitForHealthz(daemon, toBe: #"{"status":"ok"}"#, within: .seconds(10))
        XCTAssertEqual(body, #"{"status":"ok"}"#, "healthz after recovery")
        XCTAssertTrue(daemon.standardError.contains("recovered"), "no recovered line:\n\(daemon.standardError.suffix(3000))")
        let hit = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("after the disk was freed 0"))
        XCTAssertEqual(hit.headers.first(name: "x-sluice-cache"), "hit", "an answer stored after recovery is served")
    }

    // MARK: Helpers

    private func mountSmallTmpfs(size: String) throws -> String {
        guard getuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let path = "/tmp/sluice-fulldisk-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", path]) == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw XCTSkip("cannot mount a tmpfs here")
        }
        mountPoint = path
        return path
    }

    /// Writes `path` until the filesystem has no room left; returns the bytes written.
    private static func fillFilesystem(with path: String) throws -> Int {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw DaemonProcess.Failure(description: "cannot create \(path): errno \(errno)") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0xAB, count: 4096)
        var written = 0
        while true {
            let result = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if result > 0 {
                written += result
                continue
            }
            guard errno == ENOSPC else { throw DaemonProcess.Failure(description: "writing \(path): errno \(errno)") }
            return written
        }
    }

    private func sendChats(_ count: Int, to endpoint: HTTPEndpoint, content: @escaping @Sendable (Int) -> String) async throws -> [Int] {
        let http = http!
        return try await withThrowingTaskGroup(of: Int.self) { group in
            var statuses: [Int] = []
            var next = 0
            func add() {
                let index = next
                next += 1
                group.addTask { try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat(content(index))).status }
            }
            while next < min(count, 8) { add() }
            while let status = try await group.next() {
                statuses.append(status)
                if next < count { add() }
            }
            return statuses
        }
    }

    private func assertHealthz(_ daemon: DaemonProcess, is expected: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let answer = try await http.get("/healthz", to: daemon.endpoint(.tcp))
        XCTAssertEqual(answer.status, 200, file: file, line: line)
        XCTAssertEqual(String(decoding: answer.body, as: UTF8.self), expected, file: file, line: line)
    }

    /// Polls `/healthz` until its body is `expected`; returns the last body.
    private func waitForHealthz(_ daemon: DaemonProcess, toBe expected: String, within timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var body = ""
        while ContinuousClock.now < deadline {
            if let answer = try? await http.get("/healthz", to: daemon.endpoint(.tcp)) {
                body = String(decoding: answer.body, as: UTF8.self)
                if answer.status == 200, body == expected { return body }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return body
    }

    private func usageRowCount(_ daemon: DaemonProcess) -> Int {
        (try? UsageTable.rowsNow(at: daemon.databasePath).count) ?? -1
    }

    private func storeFailureLines(_ daemon: DaemonProcess) -> Int {
        lines(of: daemon, containing: "cache store failed")
    }

    private func usageFailureLines(_ daemon: DaemonProcess) -> Int {
        lines(of: daemon, containing: "could not write usage rows")
    }

    private func lines(of daemon: DaemonProcess, containing text: String) -> Int {
        daemon.logs.split(separator: "\n").filter { $0.contains(text) }.count
    }

    @discardableResult
    private static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return -1
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
