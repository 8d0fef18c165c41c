import Foundation
import XCTest

/// Streams are stored and replayed; for chat one entry serves both shapes;
/// Responses and Messages streams are replayed as the same typed events; a
/// stream that breaks off is never stored (CONTRACT, "Cache").
final class StreamCacheTests: DaemonTestCase {
    func testAStoredPlainAnswerServesAStreamWithTheUsageChunkAskedFor() async throws {
        let daemon = try await startDaemon()
        let plain = try await http.post(chatPath, to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("both shapes"))
        XCTAssertEqual(plain.header("x-sluice-cache"), "miss")
        let streamed = try await http.stream(
            chatPath, to: daemon.endpoint(.unixSocket), body: OpenAIRequests.chat("both shapes", stream: true, includeUsage: true))
        XCTAssertEqual(streamed.headers.first(name: "x-sluice-cache"), "hit")
        XCTAssertEqual(streamed.headers.first(name: "content-type"), "text/event-stream")
        XCTAssertEqual(streamed.events.last, "[DONE]")
        let chunks = streamed.events.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertTrue(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
        let text = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }.joined()
        XCTAssertEqual(text, "echo: both shapes", "the same content")
        XCTAssertEqual((chunks.last?["usage"] as? [String: Any])?["total_tokens"] as? Int, FakeUsage.standard.totalTokens)
        XCTAssertEqual(gateway.recorder.requests.count, 1)

        let withoutUsage = try await http.stream(
            chatPath, to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("both shapes", stream: true, includeUsage: false))
        XCTAssertEqual(withoutUsage.headers.first(name: "x-sluice-cache"), "hit")
        XCTAssertFalse(withoutUsage.events.contains { $0.contains("\"usage\"") }, "no usage chunk when none was asked for")

        let rows = try await usageRows(daemon, count: 3)
        XCTAssertEqual(rows.map(\.cacheOutcome), ["miss", "hit", "hit"])
        XCTAssertEqual(rows.map(\.streaming), [false, true, true])
        XCTAssertEqual(rows[1].saved, .chat, "a replayed stream saves what the answer cost")
    }

    func testAStreamThatBreaksOffIsNeverStored() async throws {
        let daemon = try await startDaemon()
        gateway.behavior.fault = .drop
        let body = OpenAIRequests.chat("broken", stream: true)
        _ = try? await http.stream(chatPath, to: daemon.endpoint(.tcp), body: body)
        gateway.behavior.fault = nil
        let again = try await http.stream(chatPath, to: daemon.endpoint(.tcp), body: body)
        XCTAssertEqual(again.headers.first(name: "x-sluice-cache"), "miss", "nothing was stored from the broken stream")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
        let rows = try await usageRows(daemon, count: 2)
        XCTAssertEqual(rows.first?.status, 502, "the broken stream is recorded as an error, not as its 200 head")
        XCTAssertEqual(rows.first?.errorCode, "upstream_unreachable")
        XCTAssertEqual(rows.last?.status, 200)
    }

    func testResponsesAndMessagesStreamsAreReplayedAsTheSameEvents() async throws {
        let daemon = try await startDaemon()
        let cases: [(String, [String: Any], String)] = [
            ("/v1/responses", ["model": "openai/gpt-4o-mini", "input": "typed", "stream": true], "response.completed"),
            ("/v1/messages", ["model": "anthropic/claude-sonnet-4", "max_tokens": 32, "stream": true,
                              "messages": [["role": "user", "content": "typed"]]], "message_stop"),
        ]
        for (path, object, finalEvent) in cases {
            let body = try JSONSerialization.data(withJSONObject: object)
            let first = try await http.stream(path, to: daemon.endpoint(.tcp), headers: [("x-api-key", "sk-ant-typed")], body: body)
            let second = try await http.stream(path, to: daemon.endpoint(.unixSocket), headers: [("x-api-key", "sk-ant-typed")], body: body)
            XCTAssertEqual(first.headers.first(name: "x-sluice-cache"), "miss", path)
            XCTAssertEqual(second.headers.first(name: "x-sluice-cache"), "hit", path)
            XCTAssertEqual(String(decoding: second.body, as: UTF8.self), String(decoding: first.body, as: UTF8.self), "\(path): the same events")
            XCTAssertTrue(String(decoding: second.body, as: UTF8.self).contains("event: \(finalEvent)"), path)

            var plain = object
            plain["stream"] = nil
            let plainAnswer = try await http.post(path, to: daemon.endpoint(.tcp), headers: [("x-api-key", "sk-ant-typed")],
                                                  body: try JSONSerialization.data(withJSONObject: plain))
            XCTAssertEqual(plainAnswer.header("x-sluice-cache"), "miss", "\(path): a stored stream is not a plain answer")
        }
        XCTAssertEqual(gateway.recorder.requests.count, 4)
        let rows = try await usageRows(daemon, count: 6)
        let streamMisses = rows.filter { $0.streaming && $0.cacheOutcome == "miss" }
        XCTAssertEqual(streamMisses.map { $0.spent?.prompt }, [FakeUsage.standard.promptTokens, FakeUsage.standard.promptTokens],
                       "input tokens read from response.completed and from message_start")
        XCTAssertEqual(streamMisses.map { $0.spent?.completion }, [FakeUsage.standard.completionTokens, FakeUsage.standard.completionTokens])
        XCTAssertEqual(streamMisses.map(\.cachedTokens), [FakeUsage.standard.cachedTokens, FakeUsage.standard.cachedTokens],
                       "cached tokens from input_tokens_details and cache_read_input_tokens")
    }

    private func usageRows(_ daemon: DaemonProcess, count: Int) async throws -> [StoredUsageRow] {
        let path = daemon.databasePath
        let arrived = try await eventually(within: .seconds(5)) { ((try? UsageTable.rowsNow(at: path))?.count ?? 0) >= count }
        XCTAssertTrue(arrived, "\(count) usage rows")
        return try await UsageTable.rows(at: path)
    }
}
