import Foundation
import XCTest

/// `--shutdown-timeout`: after SIGTERM, requests still running are cut when
/// it passes, and every request, finished or cut, has its usage row
/// (CONTRACT, "Settings" and "Usage rows and stats").
final class ShutdownTimeoutTests: DaemonTestCase {
    private func launchWithShortShutdown() -> DaemonLaunch {
        var launch = defaultLaunch()
        launch.arguments += ["--shutdown-timeout", "1s"]
        return launch
    }

    func testARequestHangingUpstreamIsCutWith503AndKeepsItsRow() async throws {
        let daemon = try await startDaemon(launchWithShortShutdown())
        let endpoint = try daemon.endpoint(.tcp)
        let http = try XCTUnwrap(self.http)

        let finished = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("finished before the stop"))
        XCTAssertEqual(finished.status, 200)

        gateway.behavior.fault = .stall
        let hanging = Task {
            try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("hangs upstream", model: "openai/gpt-4o"))
        }
        let arrived = try await eventually { gateway.recorder.requests.count == 2 }
        XCTAssertTrue(arrived, "the hanging request never reached the gateway")

        let signalled = ContinuousClock.now
        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit(timeout: .seconds(10))
        XCTAssertEqual(exit, .success)
        XCTAssertLessThan(ContinuousClock.now - signalled, .seconds(10))

        switch await hanging.result {
        case .success(let answer):
            XCTAssertOpenAIError(answer, status: 503, "the request cut by the shutdown timeout")
            XCTAssertEqual((answer.json?["error"] as? [String: Any])?["code"] as? String, "shutting_down", answer.text)
        case .failure:
            break  // its connection was closed: acceptable
        }

        let rows = try await UsageTable.rows(at: daemon.databasePath)
        XCTAssertEqual(rows.count, 2, "one row per request:\n\(rows.map(\.summary).joined(separator: "\n"))")
        let done = rows.first { $0.model == OpenAIRequests.model }
        XCTAssertEqual(done?.status, 200, "the finished request's row: \(rows.map(\.summary))")
        let cut = try XCTUnwrap(rows.first { $0.model == "openai/gpt-4o" }, "no row for the cut request: \(rows.map(\.summary))")
        XCTAssertEqual(cut.status, 503, cut.summary)
        XCTAssertEqual(cut.errorCode, "shutting_down", cut.summary)
        XCTAssertFalse(cut.streaming)
    }

    func testAStreamHangingMidStreamIsCutAndKeepsItsRow() async throws {
        let daemon = try await startDaemon(launchWithShortShutdown())
        let endpoint = try daemon.endpoint(.unixSocket)
        let http = try XCTUnwrap(self.http)

        let finished = try await http.stream(chatPath, to: endpoint, body: OpenAIRequests.chat("a whole stream", stream: true))
        XCTAssertEqual(finished.status, 200)
        XCTAssertEqual(finished.events.last, "[DONE]")

        // The first chunk goes out, then the gateway says nothing for a minute.
        gateway.behavior.streamChunkDelay = .seconds(60)
        let hanging = Task {
            try await http.stream(chatPath, to: endpoint, body: OpenAIRequests.chat("hangs mid-stream", model: "openai/gpt-4o", stream: true))
        }
        let arrived = try await eventually { gateway.recorder.requests.count == 2 }
        XCTAssertTrue(arrived, "the hanging stream never reached the gateway")
        try await Task.sleep(for: .milliseconds(300))  // the first chunk is relayed meanwhile

        let signalled = ContinuousClock.now
        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit(timeout: .seconds(10))
        XCTAssertEqual(exit, .success)
        XCTAssertLessThan(ContinuousClock.now - signalled, .seconds(10))

        switch await hanging.result {
        case .success(let answer):
            XCTAssertNotEqual(answer.events.last, "[DONE]", "a cut stream does not end as if it were whole")
        case .failure:
            break  // its connection was closed mid-stream
        }

        let rows = try await UsageTable.rows(at: daemon.databasePath)
        XCTAssertEqual(rows.count, 2, "one row per request:\n\(rows.map(\.summary).joined(separator: "\n"))")
        let done = rows.first { $0.model == OpenAIRequests.model }
        XCTAssertEqual(done?.status, 200, "the finished stream's row: \(rows.map(\.summary))")
        XCTAssertEqual(done?.streaming, true)
        let cut = try XCTUnwrap(rows.first { $0.model == "openai/gpt-4o" }, "no row for the cut stream: \(rows.map(\.summary))")
        XCTAssertTrue(cut.streaming, cut.summary)
        XCTAssertEqual(cut.errorCode, "shutting_down", "the cut stream's row says why it ended: \(cut.summary)")
    }
}
