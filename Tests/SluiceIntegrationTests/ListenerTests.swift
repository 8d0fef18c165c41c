import XCTest

/// The Unix socket listener: its mode, stale files, a path already in use.
final class ListenerTests: DaemonTestCase {
    func testSocketFileHasMode0660AndIsRemovedOnSIGTERM() async throws {
        let daemon = try await startDaemon()
        let socketPath = try XCTUnwrap(daemon.socketPath)
        XCTAssertTrue(UnixSocketFile.isSocket(at: socketPath))
        XCTAssertEqual(UnixSocketFile.permissions(at: socketPath), 0o660, "socket mode")

        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success)
        XCTAssertFalse(UnixSocketFile.exists(at: socketPath), "socket file left behind after SIGTERM")
    }

    func testStaleSocketFileDoesNotStopStart() async throws {
        let socketPath = directory.file("stale.sock")
        try UnixSocketFile.makeStale(at: socketPath)
        XCTAssertTrue(UnixSocketFile.isSocket(at: socketPath))

        var launch = defaultLaunch()
        launch.socketPath = socketPath
        let daemon = try await startDaemon(launch)
        let answer = try await http.post("/v1/chat/completions", to: daemon.endpoint(.unixSocket), body: OpenAIRequests.chat("after stale"))
        XCTAssertEqual(answer.status, 200, answer.text)
    }

    func testSocketHeldByALiveDaemonMakesASecondDaemonFailClearly() async throws {
        let first = try await startDaemon()
        let socketPath = try XCTUnwrap(first.socketPath)

        var secondLaunch = defaultLaunch()
        secondLaunch.name = "second"
        secondLaunch.socketPath = socketPath
        let second = try launchDaemon(secondLaunch)
        let exit = try await second.waitForExit(timeout: .seconds(15))

        XCTAssertNotEqual(exit, .success, "the second daemon should not run")
        XCTAssertEqual(exit.cause, .exited, "the second daemon should exit, not crash: \(exit)")
        let stderr = second.standardError
        let lines = stderr.split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.contains(socketPath) }, "no stderr line names the socket path:\n\(stderr)")
        for marker in ["Fatal error", "Stack dump", "Backtrace", "Current stack trace"] {
            XCTAssertFalse(stderr.contains(marker), "stderr has a crash report:\n\(stderr)")
        }

        // The failed start must not have taken the socket from the live daemon.
        XCTAssertTrue(UnixSocketFile.isSocket(at: socketPath))
        let answer = try await http.get("/healthz", to: first.endpoint(.unixSocket))
        XCTAssertEqual(answer.status, 200, "the first daemon lost its socket")
    }

    func testTCPPortHeldByAnotherDaemonMakesTheSecondFail() async throws {
        let first = try await startDaemon()
        let port = try XCTUnwrap(first.tcpPort)

        var secondLaunch = defaultLaunch()
        secondLaunch.name = "second"
        secondLaunch.tcpPort = port
        let second = try launchDaemon(secondLaunch)
        let exit = try await second.waitForExit(timeout: .seconds(15))

        XCTAssertNotEqual(exit, .success)
        XCTAssertEqual(exit.cause, .exited, "\(exit)")
        XCTAssertTrue(second.standardError.contains("\(port)"), "stderr does not name the port:\n\(second.standardError)")
        XCTAssertFalse(UnixSocketFile.exists(at: try XCTUnwrap(second.socketPath)), "the failed daemon left its socket file")
    }

    func testDaemonServesWithTCPOff() async throws {
        var launch = defaultLaunch()
        launch.tcp = false
        let daemon = try await startDaemon(launch)
        let answer = try await http.post("/v1/chat/completions", to: daemon.endpoint(.unixSocket), body: OpenAIRequests.chat("unix only"))
        XCTAssertEqual(answer.status, 200)
    }
}
