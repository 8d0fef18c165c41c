import Foundation
import XCTest

/// The response cache through the real daemon: what is stored, what is a hit,
/// and how the cache key is scoped (CONTRACT, "Cache").
final class CacheTests: DaemonTestCase {
    func testHitAfterMissOverTCP() async throws {
        try await assertHitAfterMiss(over: .tcp)
    }

    func testHitAfterMissOverUnixSocket() async throws {
        try await assertHitAfterMiss(over: .unixSocket)
    }

    private func assertHitAfterMiss(over transport: Transport) async throws {
        let endpoint = try await startDaemon().endpoint(transport)
        let body = OpenAIRequests.chat("what is a sluice?")

        let first = try await http.post(chatPath, to: endpoint, body: body)
        let second = try await http.post(chatPath, to: endpoint, body: body)

        XCTAssertEqual(first.status, 200, first.text)
        XCTAssertEqual(first.header("x-sluice-cache"), "miss")
        XCTAssertNil(first.header("age"), "a miss is fresh from upstream")
        XCTAssertEqual(second.status, 200, second.text)
        XCTAssertEqual(second.header("x-sluice-cache"), "hit")
        let age = try XCTUnwrap(second.header("age").flatMap(Int.init), "a hit carries age in whole seconds")
        XCTAssertGreaterThanOrEqual(age, 0)
        XCTAssertLessThan(age, 5)
        XCTAssertEqual(second.body, first.body, "a hit is byte-for-byte the stored answer")
        XCTAssertEqual(second.body, gateway.recorder.answers.first?.body)
        XCTAssertEqual(second.header("content-type"), "application/json")
        XCTAssertEqual(gateway.recorder.requests.count, 1, "the hit never reached upstream")
    }

    func testAnyChangedParameterIsAMiss() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let base: [String: Any] = ["model": "openai/gpt-4o-mini", "messages": [["role": "user", "content": "hi"]], "temperature": 0.2]
        var otherModel = base
        otherModel["model"] = "anthropic/claude-sonnet-4"
        var otherMessage = base
        otherMessage["messages"] = [["role": "user", "content": "hi!"]]
        var otherTemperature = base
        otherTemperature["temperature"] = 0.3
        var extraParameter = base
        extraParameter["max_tokens"] = 5

        for variant in [base, otherModel, otherMessage, otherTemperature, extraParameter] {
            let answer = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.json(variant))
            XCTAssertEqual(answer.header("x-sluice-cache"), "miss", "\(variant)")
        }
        XCTAssertEqual(gateway.recorder.requests.count, 5)
        let repeated = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.json(otherTemperature))
        XCTAssertEqual(repeated.header("x-sluice-cache"), "hit")
    }

    func testReorderedKeysAndDifferentWhitespaceAreTheSameRequest() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let compact = #"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"a b"}],"temperature":0}"#
        let reordered = """
            {
              "temperature" : 0,
              "messages" : [ { "content" : "a b", "role" : "user" } ],
              "model" : "openai/gpt-4o-mini"
            }
            """
        let first = try await http.post(chatPath, to: endpoint, body: Data(compact.utf8))
        let second = try await http.post(chatPath, to: endpoint, body: Data(reordered.utf8))

        XCTAssertEqual(first.header("x-sluice-cache"), "miss")
        XCTAssertEqual(second.header("x-sluice-cache"), "hit")
        XCTAssertEqual(second.body, first.body)
        XCTAssertEqual(gateway.recorder.requests.count, 1)

        // Whitespace inside a string is content, not layout.
        let spaced = #"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"a  b"}],"temperature":0}"#
        let third = try await http.post(chatPath, to: endpoint, body: Data(spaced.utf8))
        XCTAssertEqual(third.header("x-sluice-cache"), "miss")
    }

    func testStreamFalseIsTheSameAsNoStreamMember() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let plain: [String: Any] = ["model": "openai/gpt-4o-mini", "messages": [["role": "user", "content": "s"]]]
        var explicit = plain
        explicit["stream"] = false

        let first = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.json(explicit))
        let second = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.json(plain))

        XCTAssertEqual(first.header("x-sluice-cache"), "miss")
        XCTAssertEqual(second.header("x-sluice-cache"), "hit")
        XCTAssertEqual(gateway.recorder.requests.count, 1)
    }

    func testEachClientKeyHasItsOwnCacheByDefault() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let body = OpenAIRequests.chat("scoped")

        let alice = try await http.post(chatPath, to: endpoint, headers: bearer("sk-alice"), body: body)
        let bob = try await http.post(chatPath, to: endpoint, headers: bearer("sk-bob"), body: body)
        let aliceAgain = try await http.post(chatPath, to: endpoint, headers: bearer("sk-alice"), body: body)

        XCTAssertEqual(alice.header("x-sluice-cache"), "miss")
        XCTAssertEqual(bob.header("x-sluice-cache"), "miss", "another key does not see alice's answer")
        XCTAssertEqual(aliceAgain.header("x-sluice-cache"), "hit")
        XCTAssertEqual(gateway.recorder.requests.map { $0.header("authorization") }, ["Bearer sk-alice", "Bearer sk-bob"])
    }

    func testSharedScopeServesEveryClientFromOneEntry() async throws {
        let config = try writeConfig("cache: {scope: shared}\n")
        let endpoint = try await startDaemon(launch(config: config)).endpoint(.tcp)
        let body = OpenAIRequests.chat("shared")

        let alice = try await http.post(chatPath, to: endpoint, headers: bearer("sk-alice"), body: body)
        let bob = try await http.post(chatPath, to: endpoint, headers: bearer("sk-bob"), body: body)

        XCTAssertEqual(alice.header("x-sluice-cache"), "miss")
        XCTAssertEqual(bob.header("x-sluice-cache"), "hit")
        XCTAssertEqual(bob.body, alice.body)
        XCTAssertEqual(gateway.recorder.requests.count, 1)
    }

    func testOnlySuccessfulAnswersAreStored() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let body = OpenAIRequests.chat("flaky")

        gateway.behavior.fault = .status(500)
        let failed = try await http.post(chatPath, to: endpoint, body: body)
        gateway.behavior.fault = nil
        let retried = try await http.post(chatPath, to: endpoint, body: body)
        let repeated = try await http.post(chatPath, to: endpoint, body: body)

        XCTAssertEqual(failed.status, 500)
        XCTAssertEqual(failed.body, gateway.recorder.answers.first?.body, "upstream errors pass through unchanged")
        XCTAssertEqual(failed.header("x-sluice-cache"), "miss")
        XCTAssertEqual(retried.status, 200)
        XCTAssertEqual(retried.header("x-sluice-cache"), "miss", "the 500 was not stored")
        XCTAssertEqual(repeated.header("x-sluice-cache"), "hit")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
    }

    func testUpstreamClientErrorsAreNotStoredEither() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let body = OpenAIRequests.chat("x", model: "error-404")

        let first = try await http.post(chatPath, to: endpoint, body: body)
        let second = try await http.post(chatPath, to: endpoint, body: body)

        XCTAssertEqual([first.status, second.status], [404, 404])
        XCTAssertEqual(second.header("x-sluice-cache"), "miss")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
    }

    func testAStoredStreamServesTheStreamAndThePlainRequest() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let body = OpenAIRequests.chat("stream me", stream: true)

        let first = try await http.stream(chatPath, to: endpoint, body: body)
        let second = try await http.stream(chatPath, to: endpoint, body: body)

        XCTAssertEqual(first.headers.first(name: "x-sluice-cache"), "miss")
        XCTAssertEqual(second.headers.first(name: "x-sluice-cache"), "hit")
        for streamed in [first, second] {
            XCTAssertEqual(streamed.status, 200)
            XCTAssertEqual(streamed.events.last, "[DONE]")
        }
        XCTAssertEqual(gateway.recorder.requests.count, 1)
        // The plain twin is answered from the same entry, assembled.
        let plain = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("stream me"))
        XCTAssertEqual(plain.header("x-sluice-cache"), "hit")
        XCTAssertEqual(plain.json?["object"] as? String, "chat.completion")
        XCTAssertEqual(gateway.recorder.requests.count, 1)
    }

    func testEmbeddingsAreCachedLikeChat() async throws {
        let endpoint = try await startDaemon().endpoint(.unixSocket)
        let body = OpenAIRequests.embeddings(["alpha", "beta"])

        let first = try await http.post("/v1/embeddings", to: endpoint, body: body)
        let second = try await http.post("/embeddings", to: endpoint, body: body)
        let other = try await http.post("/v1/embeddings", to: endpoint, body: OpenAIRequests.embeddings(["alpha"]))

        XCTAssertEqual(first.header("x-sluice-cache"), "miss")
        XCTAssertEqual(second.header("x-sluice-cache"), "hit", "/embeddings and /v1/embeddings are one route")
        XCTAssertEqual(second.body, first.body)
        XCTAssertEqual(other.header("x-sluice-cache"), "miss")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
    }

    func testChatAndEmbeddingsWithTheSameBodyDoNotShareAnEntry() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let body = OpenAIRequests.embeddings(["same body"], model: "openai/gpt-4o-mini")

        _ = try await http.post("/v1/embeddings", to: endpoint, body: body)
        let chat = try await http.post(chatPath, to: endpoint, body: body)

        XCTAssertEqual(chat.header("x-sluice-cache"), "miss", "the route is part of the key")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
    }

    func testOtherRoutesAreForwardedUncached() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)

        let first = try await http.get("/v1/models", to: endpoint)
        let second = try await http.get("/v1/models", to: endpoint)

        XCTAssertEqual([first.status, second.status], [200, 200])
        XCTAssertEqual(second.header("x-sluice-cache"), "bypass")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
    }
}

// MARK: - Helpers shared by the cache, limit and key tests

let chatPath = "/v1/chat/completions"

/// An `Authorization: Bearer` header.
func bearer(_ key: String) -> [(String, String)] {
    [("authorization", "Bearer \(key)")]
}

extension DaemonTestCase {
    /// Writes a config file into the test folder and returns its path.
    func writeConfig(_ yaml: String, name: String = "sluice.yaml") throws -> String {
        let path = directory.file(name)
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The default launch with `--config path`.
    func launch(config path: String, name: String = "sluice") -> DaemonLaunch {
        var launch = defaultLaunch()
        launch.arguments += ["--config", path]
        launch.name = name
        return launch
    }
}
