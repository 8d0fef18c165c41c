import Foundation
import XCTest

/// Token reservations: what a request reserves, how its answer settles it, and
/// what can never be refused or locked out (CONTRACT, "Rate limits").
final class TokenReservationTests: DaemonTestCase {
    /// A chat body written by hand, so that `extra` can hold number literals
    /// JSONSerialization would not write as such (`10000000000000000000`, `1e300`).
    private func rawChat(_ content: String, extra: String) -> Data {
        Data(#"{"messages":[{"content":"\#(content)","role":"user"}],"model":"\#(OpenAIRequests.model)",\#(extra)}"#.utf8)
    }

    private func errorCode(_ answer: HTTPResult) -> String? {
        (answer.json?["error"] as? [String: Any])?["code"] as? String
    }

    private func errorMessage(_ answer: HTTPResult) -> String {
        (answer.json?["error"] as? [String: Any])?["message"] as? String ?? ""
    }

    private func remainingTokens(_ answer: HTTPResult, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        try XCTUnwrap(answer.header("x-ratelimit-remaining-tokens").flatMap(Int.init),
                      "x-ratelimit-remaining-tokens on a \(answer.status)", file: file, line: line)
    }

    // MARK: Estimates no bucket can ever hold

    func testAnImpossibleMaxTokensIsRefusedAtOnceAndDoesNotLockTheKey() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let cases = [
            ("max_tokens 10^19", rawChat("too big one", extra: #""max_tokens":10000000000000000000"#)),
            ("max_completion_tokens 1e300", rawChat("too big two", extra: #""max_completion_tokens":1e300"#)),
        ]
        for (index, (label, body)) in cases.enumerated() {
            let started = ContinuousClock.now
            let refused = try await http.post(chatPath, to: endpoint, headers: bearer("sk-greedy"), body: body)
            let took = ContinuousClock.now - started

            XCTAssertOpenAIError(refused, status: 429, label)
            XCTAssertEqual(errorCode(refused), "rate_limit_exceeded", "\(label): \(refused.text)")
            XCTAssertTrue(errorMessage(refused).contains("more than this API key's token limit can ever allow"),
                          "\(label): the message should say no bucket can ever hold it: \(errorMessage(refused))")
            XCTAssertLessThan(took, .seconds(2), "\(label): refused at once, not queued")
            XCTAssertEqual(gateway.recorder.requests.count, 0, "\(label): nothing reaches the gateway")

            let normal = try await http.post(chatPath, to: endpoint, headers: bearer("sk-greedy"),
                                             body: OpenAIRequests.chat("normal after \(index)"))
            XCTAssertEqual(normal.status, 200, "\(label): the key is not locked out: \(normal.text)")
            XCTAssertEqual(gateway.recorder.requests.count, 1, "\(label): only the normal request went upstream")
            gateway.recorder.reset()
        }
    }

    // MARK: Settlement

    func testAnUpstreamErrorGivesItsReservationBack() async throws {
        let config = try writeConfig("limits: {default: {requests_per_minute: 6000, burst: 100, tokens_per_minute: 1000}}\n")
        let endpoint = try await startDaemon(launch(config: config)).endpoint(.tcp)

        gateway.behavior.fault = .status(400)
        let failed = try await http.post(chatPath, to: endpoint, body: rawChat("first of two", extra: #""max_tokens":900"#))
        XCTAssertEqual(failed.status, 400, "the upstream's 400 passes through: \(failed.text)")

        gateway.behavior.fault = nil
        let next = try await http.post(chatPath, to: endpoint, body: rawChat("second of two", extra: #""max_tokens":900"#))
        XCTAssertEqual(next.status, 200, "the 400 settled at zero, so 900 more tokens fit in the 1000: \(next.text)")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
    }

    func testAMissReportsTheTokensItsAnswerActuallyUsed() async throws {
        // 20 tokens per second come back: a fraction of a second of refill is a few tokens.
        let config = try writeConfig("limits: {default: {requests_per_minute: 6000, burst: 100, tokens_per_minute: 1200}}\n")
        let endpoint = try await startDaemon(launch(config: config)).endpoint(.tcp)
        let usage = FakeUsage(promptTokens: 400, completionTokens: 100, cachedTokens: 0, cost: 0.001)
        gateway.behavior.usage = usage

        // The estimate (max_tokens 50 plus a short prompt) is far below the 500 used.
        let miss = try await http.post(chatPath, to: endpoint, body: rawChat("measure me", extra: #""max_tokens":50"#))
        XCTAssertEqual(miss.status, 200, miss.text)
        XCTAssertEqual(miss.header("x-sluice-cache"), "miss")
        let remaining = try remainingTokens(miss)
        let expected = 1200 - usage.totalTokens
        XCTAssertGreaterThanOrEqual(remaining, expected - 2, "remaining tokens after a miss that used \(usage.totalTokens)")
        XCTAssertLessThanOrEqual(remaining, expected + 10, "remaining tokens after a miss that used \(usage.totalTokens), not its estimate")

        // And the other way round: a large estimate, a small answer.
        gateway.behavior.usage = .standard
        let second = try await http.post(chatPath, to: endpoint, body: rawChat("measure me too", extra: #""max_tokens":600"#))
        XCTAssertEqual(second.status, 200, second.text)
        let after = try remainingTokens(second)
        XCTAssertGreaterThanOrEqual(after, remaining - FakeUsage.standard.totalTokens - 2,
                                    "a miss that used \(FakeUsage.standard.totalTokens) tokens keeps only those, not its estimate of 600+")
        XCTAssertLessThanOrEqual(after, remaining - FakeUsage.standard.totalTokens + 20)
    }

    func testACacheHitIsServedEvenWhenTheKeyIsInTokenDebt() async throws {
        let config = try writeConfig("limits: {default: {requests_per_minute: 6000, burst: 100, tokens_per_minute: 1000}}\n")
        let endpoint = try await startDaemon(launch(config: config)).endpoint(.tcp)
        let stored = OpenAIRequests.chat("store me before the debt")

        let first = try await http.post(chatPath, to: endpoint, body: stored)
        XCTAssertEqual(first.status, 200, first.text)
        XCTAssertEqual(first.header("x-sluice-cache"), "miss")

        // A small request whose answer reports 50 times what the bucket holds.
        gateway.behavior.usage = FakeUsage(promptTokens: 40_000, completionTokens: 10_000, cachedTokens: 0, cost: 0.5)
        let expensive = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("an expensive answer"))
        XCTAssertEqual(expensive.status, 200, expensive.text)
        let debt = try remainingTokens(expensive)
        XCTAssertLessThanOrEqual(debt, 0, "the bucket is empty (in debt) after the expensive answer")
        gateway.behavior.usage = .standard

        let hit = try await http.post(chatPath, to: endpoint, body: stored)
        XCTAssertEqual(hit.status, 200, "a hit spends no tokens, so debt cannot refuse it: \(hit.text)")
        XCTAssertEqual(hit.header("x-sluice-cache"), "hit")

        let fresh = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("a new question during the debt"))
        XCTAssertOpenAIError(fresh, status: 429, "a miss while in token debt")
        XCTAssertEqual(errorCode(fresh), "rate_limit_exceeded")
        XCTAssertEqual(gateway.recorder.requests.count, 2, "neither the hit nor the refused miss went upstream")
    }
}
