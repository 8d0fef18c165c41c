import Foundation
import SluiceCore
import XCTest

/// The Responses API, legacy completions and Anthropic's Messages API are
/// forwarded and their plain answers cached like chat; Anthropic's `x-api-key`
/// identifies the client like a bearer (CONTRACT, "HTTP surface").
final class ModelAPIRoutesTests: DaemonTestCase {
    private func body(_ object: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: object)
    }

    func testResponsesAndCompletionsAreCachedWithTheirOwnUsageFields() async throws {
        let daemon = try await startDaemon()
        let cases: [(String, Data)] = [
            ("/v1/responses", try body(["model": "openai/gpt-4o-mini", "input": "hello responses"])),
            ("/v1/completions", try body(["model": "openai/gpt-3.5-turbo-instruct", "prompt": "hello completions"])),
        ]
        for transport in Transport.allCases {
            for (path, request) in cases {
                let query = "?t=\(transport)"
                let first = try await http.post(path + query, to: daemon.endpoint(transport), body: request)
                XCTAssertEqual(first.status, 200, first.text)
                XCTAssertEqual(first.header("x-sluice-cache"), "miss", path)
                let second = try await http.post(path + query, to: daemon.endpoint(transport), body: request)
                XCTAssertEqual(second.header("x-sluice-cache"), "hit", "\(path) over \(transport)")
                XCTAssertEqual(second.body, first.body)
            }
        }
        XCTAssertEqual(gateway.recorder.requests.count, 4, "one upstream call per route and transport")
        let rows = try await usageRows(daemon, count: 8)
        let misses = rows.filter { $0.cacheOutcome == "miss" }
        XCTAssertEqual(misses.count, 4)
        XCTAssertEqual(misses.map(\.spent), Array(repeating: .chat, count: 4), "input_tokens/output_tokens read as prompt/completion")
        XCTAssertEqual(misses.map(\.cachedTokens), Array(repeating: FakeUsage.standard.cachedTokens, count: 4), "cached tokens recorded")
        XCTAssertEqual(Set(rows.map(\.route)), ["/v1/responses", "/v1/completions"])
    }

    func testMessagesWithXAPIKeyInPassThroughGoUpstreamUnchangedAndScopeTheCache() async throws {
        let daemon = try await startDaemon()
        let request = try body([
            "model": "anthropic/claude-sonnet-4", "max_tokens": 64,
            "messages": [["role": "user", "content": "hello claude"]],
        ])
        let alice = [("x-api-key", "sk-ant-alice"), ("anthropic-version", "2023-06-01")]
        let first = try await http.post("/v1/messages", to: daemon.endpoint(.tcp), headers: alice, body: request)
        XCTAssertEqual(first.status, 200, first.text)
        XCTAssertEqual(first.header("x-sluice-cache"), "miss")
        let again = try await http.post("/v1/messages", to: daemon.endpoint(.unixSocket), headers: alice, body: request)
        XCTAssertEqual(again.header("x-sluice-cache"), "hit")
        let bob = try await http.post(
            "/v1/messages", to: daemon.endpoint(.tcp), headers: [("x-api-key", "sk-ant-bob")], body: request)
        XCTAssertEqual(bob.header("x-sluice-cache"), "miss", "another key, another cache scope")

        let upstream = gateway.recorder.requests
        XCTAssertEqual(upstream.map { $0.header("x-api-key") }, ["sk-ant-alice", "sk-ant-bob"], "unchanged")
        XCTAssertEqual(upstream.map { $0.header("authorization") }, [nil, nil], "the daemon's credential is not added")
        XCTAssertEqual(upstream.first?.header("anthropic-version"), "2023-06-01")

        let rows = try await usageRows(daemon, count: 3)
        XCTAssertEqual(rows.map(\.keyID), [KeyID.forSecret("sk-ant-alice"), KeyID.forSecret("sk-ant-alice"), KeyID.forSecret("sk-ant-bob")])
        XCTAssertEqual(rows.first?.spent?.prompt, FakeUsage.standard.promptTokens, "input_tokens plus the cache reads")
        XCTAssertEqual(rows.first?.spent?.completion, FakeUsage.standard.completionTokens)
        XCTAssertEqual(rows.first?.cachedTokens, FakeUsage.standard.cachedTokens, "cache_read_input_tokens recorded")
        XCTAssertNil(rows[1].cachedTokens, "a hit spent nothing")
        XCTAssertFalse(daemon.logs.contains("sk-ant-alice"), "no key in the logs")
    }

    func testMessagesWithXAPIKeyInKeysModeAreCheckedAndUseTheDaemonsCredential() async throws {
        let config = try writeConfig("keys:\n  - {name: claude, key: sk-local-claude}\n")
        let daemon = try await startDaemon(launch(config: config))
        let request = try body(["model": "anthropic/claude-sonnet-4", "max_tokens": 64, "messages": [["role": "user", "content": "hi"]]])

        let accepted = try await http.post("/v1/messages", to: daemon.endpoint(.tcp), headers: [("x-api-key", "sk-local-claude")], body: request)
        XCTAssertEqual(accepted.status, 200, accepted.text)
        let refused = try await http.post("/v1/messages", to: daemon.endpoint(.tcp), headers: [("x-api-key", "sk-not-listed")], body: request)
        XCTAssertOpenAIError(refused, status: 401, "an unknown x-api-key")

        XCTAssertEqual(gateway.recorder.requests.count, 1)
        XCTAssertEqual(gateway.recorder.requests.first?.header("authorization"), "Bearer \(DaemonLaunch.upstreamKey)")
        XCTAssertNil(gateway.recorder.requests.first?.header("x-api-key"), "a key of this Sluice never goes upstream")
        let rows = try await usageRows(daemon, count: 2)
        XCTAssertEqual(rows.map(\.keyID), ["claude", "-"])
    }

    private func usageRows(_ daemon: DaemonProcess, count: Int) async throws -> [StoredUsageRow] {
        let path = daemon.databasePath
        let arrived = try await eventually(within: .seconds(5)) { ((try? UsageTable.rowsNow(at: path))?.count ?? 0) >= count }
        XCTAssertTrue(arrived, "\(count) usage rows")
        return try await UsageTable.rows(at: path)
    }
}
