import Foundation
import XCTest

/// USD spend caps per key per UTC day and month (CONTRACT, "Budgets").
final class BudgetTests: DaemonTestCase {
    static let keys = """
        keys:
          - {name: web, key: sk-web}
          - {name: batch, key: sk-batch}
        """

    /// Each answer reports this cost (USD).
    static let dollar = FakeUsage(promptTokens: 12, completionTokens: 7, cachedTokens: 3, cost: 1.0)

    override func setUp() async throws {
        try await super.setUp()
        gateway.behavior.usage = Self.dollar
    }

    /// Chat requests that reached the fake gateway (the daemon's own `/models` fetches aside).
    var upstreamChats: Int { gateway.recorder.requests.filter { $0.path.hasPrefix("/v1/chat") }.count }

    func testAKeyIsRefusedOnceItsDailyCapIsReachedWhileHitsAndOtherKeysAreServed() async throws {
        gateway.behavior.pricing = nil  // worst case unknown: admitted until spend reaches the cap
        let config = try writeConfig(Self.keys + "\nbudgets:\n  keys:\n    web: {usd_per_day: 2}\n")
        let daemon = try await startDaemon(launch(config: config))
        let endpoint = try daemon.endpoint(.tcp)

        var statuses: [Int] = []
        var refused: HTTPResult?
        for index in 0..<3 {
            let answer = try await http.post(chatPath, to: endpoint, headers: bearer("sk-web"), body: OpenAIRequests.chat("q\(index)"))
            statuses.append(answer.status)
            if answer.status == 429 { refused = answer }
        }
        XCTAssertEqual(statuses, [200, 200, 429], "$1 each against $2 a day")
        XCTAssertEqual(upstreamChats, 2, "a refused request never goes upstream")

        // The 429: OpenAI's insufficient_quota, naming the cap and its reset, retry-after until then.
        let answer = try XCTUnwrap(refused)
        XCTAssertOpenAIError(answer, status: 429, "over budget")
        let error = try XCTUnwrap(answer.json?["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "insufficient_quota")
        XCTAssertEqual(error["type"] as? String, "insufficient_quota")
        let now = Date().timeIntervalSince1970
        let midnight = (now / 86_400).rounded(.down) * 86_400 + 86_400
        let resetText = Self.utcTimestamp(midnight)
        XCTAssertEqual(
            error["message"] as? String, "This API key has spent its daily budget of $2.00 (resets \(resetText)).")
        let retryAfter = try XCTUnwrap(answer.header("retry-after").flatMap(Int.init), "retry-after on \(answer.headers)")
        XCTAssertEqual(Double(retryAfter), midnight - now, accuracy: 5, "seconds until 00:00 UTC")

        // Hits cost nothing and are always served; other keys have their own spend.
        let hit = try await http.post(chatPath, to: endpoint, headers: bearer("sk-web"), body: OpenAIRequests.chat("q0"))
        XCTAssertEqual(hit.status, 200)
        XCTAssertEqual(hit.header("x-sluice-cache"), "hit")
        let other = try await http.post(chatPath, to: endpoint, headers: bearer("sk-batch"), body: OpenAIRequests.chat("q2"))
        XCTAssertEqual(other.status, 200, "batch has no budget")
        XCTAssertEqual(upstreamChats, 3)

        // The refusal has its usage row and is counted.
        let recorded = try await eventually { ((try? UsageTable.rowsNow(at: daemon.databasePath)) ?? []).count >= 5 }
        XCTAssertTrue(recorded)
        let rows = try await UsageTable.rows(at: daemon.databasePath)
        let refusalRows = rows.filter { $0.errorCode == "insufficient_quota" }
        XCTAssertEqual(refusalRows.map(\.status), [429])
        XCTAssertEqual(refusalRows.map(\.keyID), ["web"])
        let metrics = try await http.get("/metrics", to: endpoint)
        XCTAssertTrue(metrics.text.contains(#"sluice_budget_refusals_total{key_id="web"} 1"#), metrics.text)
        XCTAssertTrue(metrics.text.contains(#"sluice_budget_remaining_usd{"#), "the remaining gauge is set after a settle")
    }

    func testAMonthlyCapPerKeyNamedByItsHexID() async throws {
        gateway.behavior.pricing = nil
        // sk-web's key id in pass-through mode would be its hex id; in keys mode it resolves to the name.
        let webHexID = Self.hexID("sk-web")
        let config = try writeConfig(Self.keys + """

            budgets:
              default: {usd_per_day: 100}
              keys:
                \(webHexID): {usd_per_month: 1.5}
            """)
        let endpoint = try await startDaemon(launch(config: config)).endpoint(.tcp)

        var web: [Int] = []
        var last: HTTPResult?
        for index in 0..<3 {
            last = try await http.post(chatPath, to: endpoint, headers: bearer("sk-web"), body: OpenAIRequests.chat("m\(index)"))
            web.append(last?.status ?? 0)
        }
        XCTAssertEqual(web, [200, 200, 429])
        let message = (last?.json?["error"] as? [String: Any])?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("monthly budget of $1.50"), message)
        XCTAssertTrue(message.contains("resets \(Self.nextMonthStart())"), message)

        var batch: [Int] = []
        for index in 0..<3 {
            batch.append(try await http.post(chatPath, to: endpoint, headers: bearer("sk-batch"), body: OpenAIRequests.chat("b\(index)")).status)
        }
        XCTAssertEqual(batch, [200, 200, 200], "the default's $100 a day applies to batch")
    }

    func testSpendSurvivesARestart() async throws {
        gateway.behavior.pricing = nil
        let config = try writeConfig(Self.keys + "\nbudgets: {default: {usd_per_day: 2}}\n")
        let first = try await startDaemon(launch(config: config))
        for index in 0..<2 {
            let answer = try await http.post(chatPath, to: try first.endpoint(.tcp), headers: bearer("sk-web"), body: OpenAIRequests.chat("r\(index)"))
            XCTAssertEqual(answer.status, 200)
        }
        first.send(signal: SIGTERM)
        _ = try await first.waitForExit()

        // `stats --by key` shows the budget use of capped keys; json keeps exactly its fields.
        let table = try await SluiceCommand.run(
            ["stats", "--by", "key", "--config", config, "--db", first.databasePath], in: directory)
        XCTAssertEqual(table.exitCode, 0, table.standardError)
        let lines = table.standardOutput.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasSuffix("TODAY $/CAP  MONTH $/CAP") ?? false, table.standardOutput)
        let webLine = try XCTUnwrap(lines.first { $0.hasPrefix("web ") }, table.standardOutput)
        XCTAssertTrue(webLine.hasSuffix("2.0000/2.00            -"), webLine)
        let json = try await SluiceCommand.run(
            ["stats", "--by", "key", "--format", "json", "--config", config, "--db", first.databasePath], in: directory)
        let objects = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]])
        XCTAssertEqual(objects.first.map { Set($0.keys) }, [
            "group", "requests", "cache_hits", "hit_rate", "errors", "rate_limited", "prompt_tokens",
            "completion_tokens", "tokens_saved", "cost", "cost_saved", "latency_p50_ms", "latency_p95_ms",
        ])

        let second = try await startDaemon(launch(config: config))
        let endpoint = try second.endpoint(.tcp)
        let refused = try await http.post(chatPath, to: endpoint, headers: bearer("sk-web"), body: OpenAIRequests.chat("r2"))
        XCTAssertEqual(refused.status, 429, "the $2 spent before the restart still counts: \(refused.text)")
        XCTAssertEqual((refused.json?["error"] as? [String: Any])?["code"] as? String, "insufficient_quota")
        XCTAssertEqual(upstreamChats, 2)
        let batch = try await http.post(chatPath, to: endpoint, headers: bearer("sk-batch"), body: OpenAIRequests.chat("r2"))
        XCTAssertEqual(batch.status, 200, "batch spent nothing")
    }

    func testSIGHUPRaisesACapWithoutForgettingSpend() async throws {
        gateway.behavior.pricing = nil
        let config = try writeConfig(Self.keys + "\nbudgets: {keys: {web: {usd_per_day: 1}}}\n")
        let daemon = try await startDaemon(launch(config: config))
        let endpoint = try daemon.endpoint(.tcp)
        var before: [Int] = []
        for index in 0..<2 {
            before.append(try await http.post(chatPath, to: endpoint, headers: bearer("sk-web"), body: OpenAIRequests.chat("h\(index)")).status)
        }
        XCTAssertEqual(before, [200, 429])

        let yaml = Self.keys + "\nbudgets: {keys: {web: {usd_per_day: 3}}}\n"
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: config))
        daemon.send(signal: SIGHUP)
        let reloaded = try await eventually { daemon.standardError.contains("configuration reloaded") }
        XCTAssertTrue(reloaded, daemon.standardError.suffix(2000).description)

        var after: [Int] = []
        for index in 2..<5 {
            after.append(try await http.post(chatPath, to: endpoint, headers: bearer("sk-web"), body: OpenAIRequests.chat("h\(index)")).status)
        }
        XCTAssertEqual(after, [200, 200, 429], "$1 spent before the reload still counts against the new $3")
        XCTAssertTrue(daemon.isRunning)
    }

    func testConcurrentMissesNearTheCapStayWithinItWhenPricesAreKnown() async throws {
        // Worst case of one request: ~30 prompt tokens at $0.0001 plus 4096 completion
        // tokens (no max_tokens) at $0.00025, about $1.03, above its actual $1.00.
        gateway.behavior.pricing = FakePricing(input: "0.0001", output: "0.00025")
        gateway.behavior.fault = .slow(.milliseconds(300))
        let config = try writeConfig(Self.keys + "\nbudgets: {keys: {web: {usd_per_day: 5}}}\n")
        let daemon = try await startDaemon(launch(config: config))
        let loaded = try await eventually(within: .seconds(5)) { daemon.standardError.contains("model prices loaded") }
        XCTAssertTrue(loaded, "the daemon fetches /models at start when budgets are configured")
        let endpoint = try daemon.endpoint(.tcp)

        let statuses = try await withThrowingTaskGroup(of: HTTPResult.self) { [http] group in
            for index in 0..<20 {
                group.addTask {
                    try await http!.post(chatPath, to: endpoint, headers: bearer("sk-web"), body: OpenAIRequests.chat("c\(index)"))
                }
            }
            var results: [HTTPResult] = []
            for try await result in group { results.append(result) }
            return results
        }
        let admitted = statuses.filter { $0.status == 200 }.count
        let refused = statuses.filter { ($0.json?["error"] as? [String: Any])?["code"] as? String == "insufficient_quota" }.count
        XCTAssertEqual(admitted + refused, 20, "\(statuses.map(\.status))")
        // The documented bound: with prices known and worst case >= actual cost, no overshoot.
        XCTAssertLessThanOrEqual(Double(admitted) * Self.dollar.cost, 5.0, "spend stays within the cap")
        XCTAssertEqual(admitted, 4, "four worst cases of ~$1.03 fit in $5, a fifth does not")
        XCTAssertEqual(upstreamChats, admitted)

        // Once settled, $4 are spent: a request whose worst case passes the remaining $1 is refused.
        let next = try await http.post(chatPath, to: endpoint, headers: bearer("sk-web"), body: OpenAIRequests.chat("after"))
        XCTAssertEqual(next.status, 429)
        let message = (next.json?["error"] as? [String: Any])?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("may cost up to $1.0"), message)
        XCTAssertTrue(message.contains("$1.00 left"), message)
        // A small max_tokens fits what is left.
        let small = try await http.post(chatPath, to: endpoint, headers: bearer("sk-web"), body: OpenAIRequests.json([
            "model": OpenAIRequests.model, "max_tokens": 100, "messages": [["role": "user", "content": "small"]],
        ]))
        XCTAssertEqual(small.status, 200, small.text)
    }

    func testWithoutBudgetsNoPricesAreFetched() async throws {
        let daemon = try await startDaemon()
        let answer = try await http.post(chatPath, to: try daemon.endpoint(.tcp), body: OpenAIRequests.chat("free"))
        XCTAssertEqual(answer.status, 200)
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(gateway.recorder.requests.map(\.path), ["/v1/chat/completions"])
    }

    // MARK: Helpers

    static func utcTimestamp(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    static func nextMonthStart() -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let now = calendar.dateComponents([.year, .month], from: Date())
        let next = calendar.date(byAdding: .month, value: 1, to: calendar.date(from: now)!)!
        return utcTimestamp(next.timeIntervalSince1970)
    }

    /// The first 12 hex digits of the SHA-256 of `key`.
    static func hexID(_ key: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try? process.run()
        input.fileHandleForWriting.write(Data(key.utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        return String(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(12))
    }
}
