import XCTest

/// Bad input and upstream faults get the right status in the OpenAI error shape,
/// upstream errors pass through unchanged, and the daemon keeps serving afterwards.
final class ErrorPathTests: DaemonTestCase {
    func testBodiesThatAreNotAJSONObjectGet400() async throws {
        let daemon = try await startDaemon()
        for transport in Transport.allCases {
            let notJSON = try await http.post("/v1/chat/completions", to: daemon.endpoint(transport), body: Data("model=gpt&hello".utf8))
            XCTAssertOpenAIError(notJSON, status: 400, "\(transport) non-JSON")

            let array = try await http.post("/v1/chat/completions", to: daemon.endpoint(transport), body: Data(#"[{"model":"m"}]"#.utf8))
            XCTAssertOpenAIError(array, status: 400, "\(transport) JSON array")

            let truncated = try await http.post("/v1/embeddings", to: daemon.endpoint(transport), body: Data(#"{"model":"m","input":"#.utf8))
            XCTAssertOpenAIError(truncated, status: 400, "\(transport) truncated JSON")

            try await assertStillServes(daemon, over: transport)
        }
        XCTAssertEqual(gateway.recorder.requests.count, 2, "only the good requests went upstream")
    }

    func testBodyOverMaxBodyGets413() async throws {
        var launch = defaultLaunch()
        launch.arguments = ["--max-body", "1KiB"]
        let daemon = try await startDaemon(launch)
        for transport in Transport.allCases {
            let large = OpenAIRequests.chat(String(repeating: "x", count: 2048))
            let answer = try await http.post("/v1/chat/completions", to: daemon.endpoint(transport), body: large)
            XCTAssertOpenAIError(answer, status: 413, "\(transport)")
            try await assertStillServes(daemon, over: transport)
        }
        XCTAssertEqual(gateway.recorder.requests.count, 2, "the oversized bodies did not go upstream")
    }

    func testClosedUpstreamPortGives502() async throws {
        let closedPort = try FreePort.make()
        let daemon = try await startDaemon(DaemonLaunch(upstream: "http://127.0.0.1:\(closedPort)/v1"))
        for transport in Transport.allCases {
            let started = ContinuousClock.now
            let answer = try await http.post("/v1/chat/completions", to: daemon.endpoint(transport), body: OpenAIRequests.chat("nobody home \(transport)"))
            let waited = ContinuousClock.now - started
            XCTAssertOpenAIError(answer, status: 502, "\(transport)")
            // A refused connection is known at once; a client should not wait long to learn it.
            XCTAssertLessThan(waited, .seconds(5), "\(transport): 502 for a refused connection took \(waited)")
            let health = try await http.get("/healthz", to: daemon.endpoint(transport))
            XCTAssertEqual(health.status, 200, "\(transport): still serving")
        }
    }

    func testStalledUpstreamGives504AfterTheUpstreamTimeout() async throws {
        var launch = defaultLaunch()
        launch.arguments = ["--upstream-timeout", "1s"]
        let daemon = try await startDaemon(launch)
        for transport in Transport.allCases {
            let started = ContinuousClock.now
            let answer = try await http.post(
                "/v1/chat/completions", to: daemon.endpoint(transport), body: OpenAIRequests.chat("stall \(transport)", model: "stall")
            )
            let waited = ContinuousClock.now - started
            XCTAssertOpenAIError(answer, status: 504, "\(transport)")
            XCTAssertGreaterThanOrEqual(waited, .milliseconds(900), "\(transport): gave up before the timeout")
            XCTAssertLessThan(waited, .seconds(5), "\(transport): took \(waited) to give up")
            try await assertStillServes(daemon, over: transport)
        }
    }

    func testDroppedUpstreamConnectionGives502() async throws {
        let daemon = try await startDaemon()
        for transport in Transport.allCases {
            let answer = try await http.post(
                "/v1/chat/completions", to: daemon.endpoint(transport), body: OpenAIRequests.chat("drop \(transport)", model: "drop")
            )
            XCTAssertOpenAIError(answer, status: 502, "\(transport)")
            try await assertStillServes(daemon, over: transport)
        }
    }

    func testUpstreamErrorsPassThroughUnchanged() async throws {
        let daemon = try await startDaemon()
        for transport in Transport.allCases {
            for (model, status) in [("error-401", 401), ("fail-500", 500)] {
                gateway.recorder.reset()
                let answer = try await http.post(
                    "/v1/chat/completions", to: daemon.endpoint(transport), body: OpenAIRequests.chat("\(model) \(transport)", model: model)
                )
                XCTAssertEqual(answer.status, status, "\(transport) \(model)")
                XCTAssertEqual(answer.body, gateway.recorder.answers.first?.body, "\(transport) \(model): body unchanged")
                XCTAssertEqual(gateway.recorder.requests.count, 1, "\(transport) \(model): not retried")
            }
            try await assertStillServes(daemon, over: transport)
        }
    }

    func testUpstreamErrorsAreNotCached() async throws {
        let daemon = try await startDaemon()
        let body = OpenAIRequests.chat("fail twice", model: "fail-500")
        let first = try await http.post("/v1/chat/completions", to: daemon.endpoint(.tcp), body: body)
        let second = try await http.post("/v1/chat/completions", to: daemon.endpoint(.tcp), body: body)
        XCTAssertEqual([first.status, second.status], [500, 500])
        XCTAssertNotEqual(second.header("x-sluice-cache"), "hit")
        XCTAssertEqual(gateway.recorder.requests.count, 2, "a 500 answer is not stored")
    }

    /// A fresh, well-formed chat request gets a 200 from upstream.
    private func assertStillServes(_ daemon: DaemonProcess, over transport: Transport, file: StaticString = #filePath, line: UInt = #line) async throws {
        let answer = try await http.post(
            "/v1/chat/completions", to: daemon.endpoint(transport), body: OpenAIRequests.chat("still fine \(UUID())")
        )
        XCTAssertEqual(answer.status, 200, "\(transport): a good request after a bad one: \(answer.text)", file: file, line: line)
    }
}
