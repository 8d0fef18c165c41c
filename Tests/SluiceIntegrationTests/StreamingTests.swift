import XCTest

/// `"stream": true` answers are relayed event by event, as they arrive.
final class StreamingTests: DaemonTestCase {
    func testStreamIsRelayedAsItArrivesNotBufferedWhole() async throws {
        gateway.behavior.streamChunkCount = 5
        gateway.behavior.streamChunkDelay = .milliseconds(300)
        let daemon = try await startDaemon()
        for transport in Transport.allCases {
            gateway.recorder.reset()
            let streamed = try await http.stream(
                "/v1/chat/completions", to: daemon.endpoint(transport), body: OpenAIRequests.chat("stream \(transport)", stream: true)
            )

            XCTAssertEqual(streamed.status, 200, "\(transport)")
            XCTAssertTrue(streamed.headers.first(name: "content-type")?.hasPrefix("text/event-stream") ?? false, "\(transport)")
            XCTAssertNotNil(streamed.headers.first(name: "x-sluice-cache"), "\(transport)")
            XCTAssertEqual(streamed.events.count, 6, "\(transport): 5 chunks and [DONE]")
            XCTAssertEqual(streamed.events.last, "[DONE]", "\(transport)")
            XCTAssertEqual(streamed.body, gateway.recorder.answers.first?.body, "\(transport): events unchanged")

            // The fake spends 4 × 300 ms between its first and last chunk; a relay
            // that buffered the answer would deliver everything at once at the end.
            let first = try XCTUnwrap(streamed.firstArrival)
            let last = try XCTUnwrap(streamed.lastArrival)
            XCTAssertLessThan(first - streamed.sent, .milliseconds(700), "\(transport): first event arrives before the rest is produced")
            XCTAssertGreaterThan(last - first, .milliseconds(800), "\(transport): events arrive spread out")

            let upstream = try XCTUnwrap(gateway.recorder.requests.first)
            XCTAssertEqual(upstream.jsonBody?["stream"] as? Bool, true, "\(transport)")
            XCTAssertEqual(gateway.recorder.requests.count, 1, "\(transport)")
        }
    }

    func testAStreamIsReplayedFromTheCacheOverBothListeners() async throws {
        let daemon = try await startDaemon()
        let body = OpenAIRequests.chat("stream twice", stream: true)
        var outcomes: [String?] = []
        for transport in Transport.allCases {
            let streamed = try await http.stream("/v1/chat/completions", to: daemon.endpoint(transport), body: body)
            XCTAssertEqual(streamed.status, 200, "\(transport)")
            XCTAssertEqual(streamed.events.last, "[DONE]", "\(transport)")
            outcomes.append(streamed.headers.first(name: "x-sluice-cache"))
        }
        XCTAssertEqual(outcomes, ["miss", "hit"])
        XCTAssertEqual(gateway.recorder.requests.count, 1, "the second stream is a replay")
    }

    func testClientHangingUpMidStreamCancelsTheUpstreamStream() async throws {
        gateway.behavior.streamChunkCount = 12
        gateway.behavior.streamChunkDelay = .milliseconds(250)
        let daemon = try await startDaemon()
        for transport in Transport.allCases {
            gateway.recorder.reset()
            let streamed = try await http.stream(
                "/v1/chat/completions", to: daemon.endpoint(transport),
                body: OpenAIRequests.chat("hang up \(transport)", stream: true), stopAfter: 1
            )
            XCTAssertEqual(streamed.chunks.count, 1, "\(transport)")

            // The fake would need 11 × 250 ms more to finish; it should see the hang-up well before.
            let cancelled = try await eventually(within: .seconds(2)) { !gateway.recorder.cancelledAnswers.isEmpty }
            XCTAssertTrue(cancelled, "\(transport): upstream stream was not cancelled after the client hung up")
            XCTAssertTrue(gateway.recorder.answers.isEmpty, "\(transport): upstream stream ran to the end")
        }
        let health = try await http.get("/healthz", to: daemon.endpoint(.tcp))
        XCTAssertEqual(health.status, 200)
    }
}
