import XCTest

/// The harness tests itself: the fake gateway answers like Vercel's and records what it saw.
final class FakeGatewayTests: XCTestCase {
    private var gateway: FakeGateway!
    private var http: TestHTTPClient!

    override func setUp() async throws {
        gateway = try await FakeGateway.start()
        http = TestHTTPClient()
    }

    override func tearDown() async throws {
        await http.shutdown()
        await gateway.stop()
    }

    func testChatCompletionEchoesModelAndLastMessageWithUsage() async throws {
        let answer = try await http.post(
            "/v1/chat/completions", to: gateway.endpoint,
            headers: [("authorization", "Bearer abc"), ("x-title", "T")],
            body: OpenAIRequests.chat("hello there", model: "openai/gpt-4o-mini")
        )
        XCTAssertEqual(answer.status, 200)
        let choice = (answer.json?["choices"] as? [[String: Any]])?.first
        XCTAssertEqual((choice?["message"] as? [String: Any])?["content"] as? String, "echo: hello there")
        XCTAssertEqual(answer.json?["model"] as? String, "openai/gpt-4o-mini")
        let usage = answer.json?["usage"] as? [String: Any]
        XCTAssertEqual(usage?["total_tokens"] as? Int, FakeUsage.standard.totalTokens)
        XCTAssertEqual(usage?["cost"] as? Double, FakeUsage.standard.cost)
        XCTAssertEqual((usage?["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int, 3)

        let seen = try XCTUnwrap(gateway.recorder.requests.first)
        XCTAssertEqual(gateway.recorder.requests.count, 1)
        XCTAssertEqual(seen.method, "POST")
        XCTAssertEqual(seen.path, "/v1/chat/completions")
        XCTAssertEqual(seen.header("Authorization"), "Bearer abc")
        XCTAssertEqual(seen.header("x-title"), "T")
        XCTAssertEqual(gateway.recorder.answers.first?.body, answer.body)
    }

    func testStreamSpreadsChunksAndPutsUsageOnTheLastContentChunk() async throws {
        gateway.behavior.streamChunkCount = 4
        gateway.behavior.streamChunkDelay = .milliseconds(150)
        let streamed = try await http.stream(
            "/v1/chat/completions", to: gateway.endpoint, body: OpenAIRequests.chat("s", stream: true)
        )
        XCTAssertEqual(streamed.status, 200)
        XCTAssertEqual(streamed.headers.first(name: "content-type"), "text/event-stream")
        let events = streamed.events
        XCTAssertEqual(events.count, 5)
        XCTAssertEqual(events.last, "[DONE]")
        let last = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(events[3].utf8)) as? [String: Any])
        XCTAssertNotNil(last["usage"])
        XCTAssertEqual((last["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String, "stop")
        let spread = try XCTUnwrap(streamed.lastArrival) - XCTUnwrap(streamed.firstArrival)
        XCTAssertGreaterThan(spread, .milliseconds(400))
    }

    func testClientHangingUpMidStreamIsRecordedAsCancelled() async throws {
        gateway.behavior.streamChunkCount = 10
        gateway.behavior.streamChunkDelay = .milliseconds(100)
        let streamed = try await http.stream(
            "/v1/chat/completions", to: gateway.endpoint, body: OpenAIRequests.chat("s", stream: true), stopAfter: 1
        )
        XCTAssertEqual(streamed.chunks.count, 1)
        let deadline = ContinuousClock.now + .seconds(3)
        while gateway.recorder.cancelledAnswers.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertEqual(gateway.recorder.cancelledAnswers, ["/v1/chat/completions"])
        XCTAssertTrue(gateway.recorder.answers.isEmpty)
    }

    func testMagicModelsSelectFaults() async throws {
        let unauthorized = try await http.post("/v1/chat/completions", to: gateway.endpoint, body: OpenAIRequests.chat("x", model: "error-401"))
        XCTAssertEqual(unauthorized.status, 401)
        let error = unauthorized.json?["error"] as? [String: Any]
        XCTAssertEqual(error?["type"] as? String, "authentication_error")
        XCTAssertTrue(error?.keys.contains("param") ?? false)

        let failed = try await http.post("/v1/chat/completions", to: gateway.endpoint, body: OpenAIRequests.chat("x", model: "fail-500"))
        XCTAssertEqual(failed.status, 500)

        let started = ContinuousClock.now
        let slow = try await http.post("/v1/chat/completions", to: gateway.endpoint, body: OpenAIRequests.chat("x", model: "slow-300ms"))
        XCTAssertEqual(slow.status, 200)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(300))

        do {
            let dropped = try await http.post("/v1/chat/completions", to: gateway.endpoint, body: OpenAIRequests.chat("x", model: "drop"))
            XCTFail("a dropped answer should not arrive whole: \(dropped.status) \(dropped.text)")
        } catch {}
    }

    func testStallSendsHeadThenNothing() async throws {
        let client = TestHTTPClient(readTimeout: .milliseconds(600))
        let started = ContinuousClock.now
        do {
            let answer = try await client.post("/v1/chat/completions", to: gateway.endpoint, body: OpenAIRequests.chat("x", model: "stall"))
            XCTFail("a stalled answer should never end, got \(answer.status) \(answer.text)")
        } catch {
            XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(500))
        }
        await client.shutdown()
    }

    func testEmbeddingsModelsAndCatchAll() async throws {
        let embeddings = try await http.post("/v1/embeddings", to: gateway.endpoint, body: OpenAIRequests.embeddings(["a", "b"]))
        XCTAssertEqual((embeddings.json?["data"] as? [Any])?.count, 2)

        let models = try await http.get("/v1/models", to: gateway.endpoint)
        let first = (models.json?["data"] as? [[String: Any]])?.first
        XCTAssertNotNil(first?["pricing"] as? [String: String])

        let other = try await http.get("/v1/generation?id=gen_1", to: gateway.endpoint)
        XCTAssertEqual((other.json?["echo"] as? [String: Any])?["path"] as? String, "/v1/generation?id=gen_1")
        XCTAssertEqual(gateway.recorder.requests.map(\.path), ["/v1/embeddings", "/v1/models", "/v1/generation?id=gen_1"])
    }

    func testUnknownMagicNamesAreOrdinaryModels() {
        XCTAssertEqual(FakeGatewayFault(model: "slow-2s"), .slow(.seconds(2)))
        XCTAssertEqual(FakeGatewayFault(model: "fail-503"), .status(503))
        XCTAssertNil(FakeGatewayFault(model: "openai/gpt-4o"))
        XCTAssertNil(FakeGatewayFault(model: "fail-abc"))
        XCTAssertNil(FakeGatewayFault(model: "slow-"))
    }
}
