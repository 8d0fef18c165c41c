import XCTest

/// Signals: SIGTERM and SIGINT drain and exit 0 without losing usage rows; SIGHUP does not stop.
final class ShutdownTests: DaemonTestCase {
    func testSIGTERMLetsAnInFlightRequestFinishThenExitsZero() async throws {
        let daemon = try await startDaemon()
        let endpoint = try daemon.endpoint(.tcp)
        let http = try XCTUnwrap(self.http)
        let inFlight = Task {
            try await http.post("/v1/chat/completions", to: endpoint, body: OpenAIRequests.chat("slow", model: "slow-1500ms"))
        }
        let arrived = try await eventually { !gateway.recorder.requests.isEmpty }
        XCTAssertTrue(arrived, "the slow request never reached upstream")

        daemon.send(signal: SIGTERM)
        let answer = try await inFlight.value
        XCTAssertEqual(answer.status, 200, "the in-flight request was cut: \(answer.text)")
        XCTAssertEqual(answer.body, gateway.recorder.answers.first?.body)

        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success)
    }

    func testSIGTERMStopsAcceptingNewConnections() async throws {
        let daemon = try await startDaemon()
        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success)
        let fresh = TestHTTPClient(requestTimeout: .seconds(2))
        do {
            let answer = try await fresh.get("/healthz", to: daemon.endpoint(.tcp))
            XCTFail("a stopped daemon answered \(answer.status)")
        } catch {}
        await fresh.shutdown()
    }

    func testSIGINTExitsZero() async throws {
        let daemon = try await startDaemon()
        daemon.send(signal: SIGINT)
        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success)
    }

    func testSIGHUPReloadsWithoutStopping() async throws {
        let daemon = try await startDaemon()
        daemon.send(signal: SIGHUP)
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertTrue(daemon.isRunning, "SIGHUP stopped the daemon")
        let answer = try await http.post("/v1/chat/completions", to: daemon.endpoint(.unixSocket), body: OpenAIRequests.chat("after hup"))
        XCTAssertEqual(answer.status, 200)
    }

    func testSIGTERMFlushesEveryUsageRow() async throws {
        let daemon = try await startDaemon()
        for index in 0..<3 {
            let answer = try await http.post("/v1/chat/completions", to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("row \(index)"))
            XCTAssertEqual(answer.status, 200)
        }
        let streamed = try await http.stream("/v1/chat/completions", to: daemon.endpoint(.unixSocket), body: OpenAIRequests.chat("row s", stream: true))
        XCTAssertEqual(streamed.status, 200)
        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success)

        let stats = try await SluiceCommand.run(["stats", "--db", daemon.databasePath, "--format", "json"], in: directory)
        XCTAssertEqual(stats.exitCode, 0, stats.standardError)
        let groups = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(stats.standardOutput.utf8)) as? [[String: Any]], "stats json: \(stats.standardOutput)"
        )
        let requests = groups.compactMap { $0["requests"] as? Int }.reduce(0, +)
        XCTAssertEqual(requests, 4, "usage rows after a clean stop: \(stats.standardOutput)")
        let promptTokens = groups.compactMap { $0["prompt_tokens"] as? Int }.reduce(0, +)
        XCTAssertEqual(promptTokens, 4 * FakeUsage.standard.promptTokens, "tokens as upstream reported them")
    }
}
