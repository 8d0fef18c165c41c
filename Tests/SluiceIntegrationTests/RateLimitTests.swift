import Foundation
import XCTest

/// Token buckets per client key, their headers, `max_wait` and SIGHUP reloads
/// (CONTRACT, "Rate limits").
final class RateLimitTests: DaemonTestCase {
    static let rateLimitHeaders = ["requests", "tokens"].flatMap { unit in
        ["limit", "remaining", "reset"].map { "x-ratelimit-\($0)-\(unit)" }
    }

    func testTheRequestAfterTheBurstIsRefusedAndSucceedsAfterRetryAfter() async throws {
        let config = try writeConfig("limits: {default: {requests_per_minute: 60, burst: 3, tokens_per_minute: 100000}}\n")
        let daemon = try await startDaemon(launch(config: config))
        // One bucket per key, whichever listener the requests come through.
        let endpoints = try [daemon.endpoint(.tcp), daemon.endpoint(.unixSocket), daemon.endpoint(.tcp), daemon.endpoint(.unixSocket)]

        var answers: [HTTPResult] = []
        for (index, endpoint) in endpoints.enumerated() {
            answers.append(try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("quick \(index)")))
        }

        XCTAssertEqual(answers.map(\.status), [200, 200, 200, 429])
        XCTAssertEqual(answers.map { $0.header("x-ratelimit-remaining-requests") }, ["2", "1", "0", "0"])
        for answer in answers {
            for name in Self.rateLimitHeaders {
                XCTAssertNotNil(answer.header(name), "\(name) on a \(answer.status)")
            }
            XCTAssertEqual(answer.header("x-ratelimit-limit-requests"), "3")
            XCTAssertEqual(answer.header("x-ratelimit-limit-tokens"), "100000")
        }
        let refused = answers[3]
        XCTAssertOpenAIError(refused, status: 429, "the 4th request")
        XCTAssertEqual((refused.json?["error"] as? [String: Any])?["code"] as? String, "rate_limit_exceeded")
        XCTAssertEqual(refused.header("retry-after"), "1", "one request per second comes back")
        XCTAssertEqual(gateway.recorder.requests.count, 3, "a refused request never goes upstream")

        try await Task.sleep(for: .seconds(1))
        let retried = try await http.post(chatPath, to: endpoints[3], body: OpenAIRequests.chat("quick 3"))
        XCTAssertEqual(retried.status, 200, "retrying after retry-after seconds succeeds")
    }

    func testTwoKeysDoNotShareABucket() async throws {
        let config = try writeConfig("limits: {default: {requests_per_minute: 6, burst: 2}}\n")
        let endpoint = try await startDaemon(launch(config: config)).endpoint(.tcp)

        var alice: [Int] = []
        for index in 0..<3 {
            alice.append(try await http.post(chatPath, to: endpoint, headers: bearer("sk-alice"), body: OpenAIRequests.chat("a\(index)")).status)
        }
        let bob = try await http.post(chatPath, to: endpoint, headers: bearer("sk-bob"), body: OpenAIRequests.chat("b"))
        let anonymous = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("c"))

        XCTAssertEqual(alice, [200, 200, 429])
        XCTAssertEqual(bob.status, 200, "bob's bucket is his own")
        XCTAssertEqual(bob.header("x-ratelimit-remaining-requests"), "1")
        XCTAssertEqual(anonymous.status, 200, "no bearer is one more key of its own")
    }

    func testPerKeyLimitsOverrideTheDefault() async throws {
        let aliceID = "099295a3784e"  // `printf %s sk-alice | sha256sum`, first 12 digits
        let config = try writeConfig("""
            limits:
              default: {requests_per_minute: 6, burst: 1}
              keys:
                \(aliceID): {requests_per_minute: 6, burst: 3}
            """)
        let endpoint = try await startDaemon(launch(config: config)).endpoint(.tcp)

        var alice: [Int] = []
        var bob: [Int] = []
        for index in 0..<3 {
            alice.append(try await http.post(chatPath, to: endpoint, headers: bearer("sk-alice"), body: OpenAIRequests.chat("a\(index)")).status)
            bob.append(try await http.post(chatPath, to: endpoint, headers: bearer("sk-bob"), body: OpenAIRequests.chat("b\(index)")).status)
        }
        XCTAssertEqual(alice, [200, 200, 200])
        XCTAssertEqual(bob, [200, 429, 429])
    }

    func testCacheHitsSpendNoTokens() async throws {
        // About 19 tokens per request: five misses empty the bucket, hits do not.
        let config = try writeConfig("limits: {default: {requests_per_minute: 6000, burst: 100, tokens_per_minute: 100}}\n")
        let endpoint = try await startDaemon(launch(config: config)).endpoint(.tcp)
        let body = OpenAIRequests.chat("hit me")

        let miss = try await http.post(chatPath, to: endpoint, body: body)
        XCTAssertEqual(miss.header("x-sluice-cache"), "miss")
        let afterMiss = try XCTUnwrap(miss.header("x-ratelimit-remaining-tokens").flatMap(Int.init))
        XCTAssertLessThan(afterMiss, 100, "a miss spends tokens")
        for _ in 0..<10 {
            let hit = try await http.post(chatPath, to: endpoint, body: body)
            XCTAssertEqual(hit.status, 200)
            XCTAssertEqual(hit.header("x-sluice-cache"), "hit")
            let remaining = try XCTUnwrap(hit.header("x-ratelimit-remaining-tokens").flatMap(Int.init))
            XCTAssertGreaterThanOrEqual(remaining, afterMiss, "a hit spends no tokens")
        }

        var statuses: [Int] = []
        for index in 0..<8 {
            statuses.append(try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("miss \(index)")).status)
        }
        XCTAssertTrue(statuses.contains(429), "the same number of misses does exhaust the bucket: \(statuses)")
    }

    func testMaxWaitQueuesARequestInsteadOfRefusingIt() async throws {
        let config = try writeConfig("limits: {default: {requests_per_minute: 60, burst: 1, max_wait: 2s}}\n")
        let endpoint = try await startDaemon(launch(config: config)).endpoint(.tcp)

        let first = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("first"))
        let started = ContinuousClock.now
        let second = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("second"))
        let waited = ContinuousClock.now - started

        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(second.status, 200, "waited for its turn instead of a 429")
        XCTAssertGreaterThan(waited, .milliseconds(500))
        XCTAssertLessThan(waited, .milliseconds(2500))
    }

    func testMaxWaitRefusesWhatWouldWaitLonger() async throws {
        let config = try writeConfig("limits: {default: {requests_per_minute: 60, burst: 1, max_wait: 2s}}\n")
        let endpoint = try await startDaemon(launch(config: config)).endpoint(.tcp)
        let wide = ConcurrentHTTPClient()
        addTeardownBlock { await wide.shutdown() }

        // Turns at 0 s, 1 s, 2 s; the fourth would start at 3 s, past max_wait.
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<4 {
                group.addTask { try await wide.post(chatPath, to: endpoint, body: OpenAIRequests.chat("queued \(index)")).status }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(statuses.sorted(), [200, 200, 200, 429])
    }

    func testARequestQueuedBehindAnIdenticalOneIsAnsweredFromTheCache() async throws {
        let config = try writeConfig("limits: {default: {requests_per_minute: 60, burst: 1, max_wait: 2s}}\n")
        let endpoint = try await startDaemon(launch(config: config)).endpoint(.tcp)
        let wide = ConcurrentHTTPClient()
        addTeardownBlock { await wide.shutdown() }
        let body = OpenAIRequests.chat("asked twice at once")

        let answers = try await withThrowingTaskGroup(of: HTTPResult.self) { group in
            for _ in 0..<2 {
                group.addTask { try await wide.post(chatPath, to: endpoint, body: body) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }

        XCTAssertEqual(answers.map(\.status), [200, 200])
        XCTAssertEqual(answers.compactMap { $0.header("x-sluice-cache") }.sorted(), ["hit", "miss"],
                       "the queued twin finds the answer its predecessor stored")
        XCTAssertEqual(gateway.recorder.requests.count, 1)
    }

    func testSIGHUPChangesALimitWithoutResettingBuckets() async throws {
        let config = try writeConfig("limits: {default: {requests_per_minute: 6, burst: 2}}\n")
        let daemon = try await startDaemon(launch(config: config))
        let endpoint = try daemon.endpoint(.tcp)
        var statuses: [Int] = []
        for index in 0..<3 {
            statuses.append(try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("before \(index)")).status)
        }
        XCTAssertEqual(statuses, [200, 200, 429])

        try await reload(daemon, config: config, with: "limits: {default: {requests_per_minute: 6, burst: 4}}\n")
        let afterReload = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("after"))
        XCTAssertEqual(afterReload.header("x-ratelimit-limit-requests"), "4", "the new burst is in force")
        XCTAssertEqual(afterReload.status, 429, "the bucket kept its balance instead of starting full")

        try await reload(daemon, config: config, with: "limits: {default: {requests_per_minute: 600, burst: 4}}\n")
        var refilled = false
        for _ in 0..<10 where !refilled {
            try await Task.sleep(for: .milliseconds(100))
            refilled = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("fast")).status == 200
        }
        XCTAssertTrue(refilled, "ten requests per second refill within a second")
        XCTAssertTrue(daemon.isRunning, "no restart")
    }

    func testABadConfigOnSIGHUPIsRefusedAndTheOldOneStays() async throws {
        let config = try writeConfig("limits: {default: {requests_per_minute: 60, burst: 2}}\n")
        let daemon = try await startDaemon(launch(config: config))
        let endpoint = try daemon.endpoint(.tcp)
        _ = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("warm up"))

        for bad in ["limits: {default: {requests_per_minute: lots}}\n", "limits: {default: {burst: 9}}\nlimitz: {}\n", "limits: [unclosed\n"] {
            try await reload(daemon, config: config, with: bad, expecting: .refused)
            let answer = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("still served \(bad.count)"))
            XCTAssertTrue(daemon.isRunning)
            XCTAssertEqual(answer.header("x-ratelimit-limit-requests"), "2", "the old limits stay after \(bad)")
        }
    }
}

// MARK: - Helpers shared with the key tests

/// What the daemon logs after a SIGHUP.
enum ReloadOutcome: String {
    case applied = "configuration reloaded"
    case refused = "configuration reload refused"
}

extension DaemonTestCase {
    /// Rewrites `config`, sends SIGHUP and waits until the daemon logs `outcome`
    /// once more than before.
    func reload(_ daemon: DaemonProcess, config: String, with yaml: String, expecting outcome: ReloadOutcome = .applied) async throws {
        let count = { daemon.standardError.components(separatedBy: outcome.rawValue).count - 1 }
        let before = count()
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: config))
        daemon.send(signal: SIGHUP)
        let logged = try await eventually { count() > before }
        XCTAssertTrue(logged, "no `\(outcome.rawValue)` log line after SIGHUP; stderr:\n\(daemon.standardError.suffix(2000))")
    }
}
