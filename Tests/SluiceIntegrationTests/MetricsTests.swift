import Foundation
import SluiceCore
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `GET /metrics` of the running daemon: the Prometheus text format, and
/// counters that move by exactly what was served.
final class MetricsTests: DaemonTestCase {
    static let chatRoute = "/v1/chat/completions"
    static let clientKey = "sk-metrics-client-secret"

    func testMetricsIsPrometheusTextOnBothListeners() async throws {
        let daemon = try await startDaemon()
        let idle = try await scrape(daemon)
        XCTAssertEqual(idle.sum("sluice_requests_total"), 0, "/healthz and /metrics are not counted as requests")
        let chat = try await http.post(chatPath, to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("one"))
        XCTAssertEqual(chat.status, 200)

        for transport in Transport.allCases {
            let answer = try await http.get("/metrics", to: daemon.endpoint(transport))
            XCTAssertEqual(answer.status, 200)
            let contentType = try XCTUnwrap(answer.header("content-type"))
            XCTAssertTrue(contentType.hasPrefix("text/plain; version=0.0.4"), contentType)
            let scrape = try PrometheusScrape(answer.text)
            XCTAssertEqual(scrape.types["sluice_requests_total"], "counter", "\(transport)")
            XCTAssertEqual(scrape.types["sluice_upstream_duration_seconds"], "histogram", "\(transport)")
            XCTAssertEqual(scrape.types["sluice_cache_entries"], "gauge", "\(transport)")
            XCTAssertEqual(scrape.sum("sluice_requests_total"), 1, "\(transport)")
        }
    }

    func testCountersMoveByExactlyWhatWasServed() async throws {
        let config = try writeConfig("limits: {default: {requests_per_minute: 1, burst: 2}}\n")
        let daemon = try await startDaemon(launch(config: config))
        let endpoint = try daemon.endpoint(.tcp)
        let key = bearer(Self.clientKey)
        let before = try await scrape(daemon)

        let miss = try await http.post(chatPath, to: endpoint, headers: key, body: OpenAIRequests.chat("counted"))
        let hit = try await http.post(chatPath, to: endpoint, headers: key, body: OpenAIRequests.chat("counted"))
        let malformed = try await http.post(chatPath, to: endpoint, headers: key, body: Data("{not json".utf8))
        let limited = try await http.post(chatPath, to: endpoint, headers: key, body: OpenAIRequests.chat("refused"))
        let after = try await scrape(daemon)

        XCTAssertEqual([miss.status, hit.status, malformed.status, limited.status], [200, 200, 400, 429])
        XCTAssertEqual([miss.header("x-sluice-cache"), hit.header("x-sluice-cache")], ["miss", "hit"])
        let requests = "sluice_requests_total"
        func moved(_ labels: [String: String]) -> Double {
            after.sum(requests, where: labels) - before.sum(requests, where: labels)
        }
        XCTAssertEqual(moved(["route": Self.chatRoute, "status": "200", "cache": "miss"]), 1)
        XCTAssertEqual(moved(["route": Self.chatRoute, "status": "200", "cache": "hit"]), 1)
        XCTAssertEqual(moved(["route": Self.chatRoute, "status": "400"]), 1)
        XCTAssertEqual(moved(["route": Self.chatRoute, "status": "429"]), 1)
        XCTAssertEqual(moved([:]), 4, "nothing else was counted")

        let histogram = "sluice_upstream_duration_seconds"
        XCTAssertEqual(after.value(histogram + "_count") - before.value(histogram + "_count"), 1, "only the miss went upstream")
        XCTAssertGreaterThan(after.value(histogram + "_sum"), before.value(histogram + "_sum"))
        XCTAssertEqual(after.value(histogram + "_bucket", ["le": "+Inf"]), after.value(histogram + "_count"))

        let keyID = KeyID.forSecret(Self.clientKey)
        XCTAssertEqual(after.value("sluice_rate_limited_total", ["key_id": keyID]) - before.value("sluice_rate_limited_total", ["key_id": keyID]), 1)
        XCTAssertEqual(after.sum("sluice_rate_limited_total") - before.sum("sluice_rate_limited_total"), 1)
        XCTAssertEqual(after.value("sluice_inflight_requests"), 0)

        let rowsWritten = try await eventuallyScraped(daemon) { $0.value("sluice_usage_rows_written_total") == 4 }
        XCTAssertEqual(rowsWritten.value("sluice_usage_rows_written_total"), 4, "one usage row per request")
        XCTAssertEqual(rowsWritten.value("sluice_usage_queue_depth"), 0)
        XCTAssertEqual(rowsWritten.value("sluice_usage_rows_dropped_total"), 0)
        let text = try await http.get("/metrics", to: endpoint).text
        XCTAssertFalse(text.contains(Self.clientKey), "a client key never becomes a label")
    }

    /// The cache gauges are set by the maintenance sweep, which runs at start
    /// and then every minute: a restart shows what the last run stored.
    func testCacheGaugesShowTheStoredEntriesAfterASweep() async throws {
        let first = try await startDaemon()
        let empty = try await eventuallyScraped(first) { $0.samples.keys.contains { $0.name == "sluice_cache_entries" } }
        XCTAssertEqual(empty.value("sluice_cache_entries"), 0)
        let answer = try await http.post(chatPath, to: first.endpoint(.tcp), body: OpenAIRequests.chat("kept for the next run"))
        XCTAssertEqual(answer.header("x-sluice-cache"), "miss")
        first.send(signal: SIGTERM)
        let exit = try await first.waitForExit()
        XCTAssertEqual(exit, .success)

        let second = try await startDaemon()
        let swept = try await eventuallyScraped(second) { $0.value("sluice_cache_entries") > 0 }

        XCTAssertEqual(swept.value("sluice_cache_entries"), 1)
        XCTAssertGreaterThan(swept.value("sluice_cache_bytes"), 0)
    }

    /// Every family and its type: a fresh daemon's first scrape has them all,
    /// so that `rate()` sees the first request.
    static let families: [(name: String, type: String)] = [
        ("sluice_requests_total", "counter"), ("sluice_rate_limited_total", "counter"),
        ("sluice_upstream_duration_seconds", "histogram"), ("sluice_cache_entries", "gauge"),
        ("sluice_cache_bytes", "gauge"), ("sluice_usage_queue_depth", "gauge"),
        ("sluice_usage_rows_dropped_total", "counter"), ("sluice_usage_rows_written_total", "counter"),
        ("sluice_inflight_requests", "gauge"), ("sluice_failures_total", "counter"),
        ("sluice_tokens_total", "counter"), ("sluice_cost_usd_total", "counter"),
        ("sluice_saved_tokens_total", "counter"), ("sluice_saved_cost_usd_total", "counter"),
        ("sluice_budget_refusals_total", "counter"), ("sluice_budget_remaining_usd", "gauge"),
    ]

    func testFreshDaemonExposesEveryFamilyOnItsFirstScrape() async throws {
        let daemon = try await startDaemon()
        let first = try await scrape(daemon)

        for (name, type) in Self.families {
            XCTAssertEqual(first.types[name], type, name)
            XCTAssertTrue(first.exposes(name), "\(name) has a series before any request")
        }
        for (name, type) in Self.families where type == "counter" {
            XCTAssertEqual(first.sum(name), 0, name)
        }
    }

    func testTokensAndCostByKeyAndModelMoveByTheUpstreamUsage() async throws {
        let daemon = try await startDaemon()
        let endpoint = try daemon.endpoint(.tcp)
        let key = bearer(Self.clientKey)
        let labels = ["key_id": KeyID.forSecret(Self.clientKey), "model": OpenAIRequests.model]
        let usage = FakeUsage.standard
        let before = try await scrape(daemon)

        let miss = try await http.post(chatPath, to: endpoint, headers: key, body: OpenAIRequests.chat("spent"))
        XCTAssertEqual(miss.header("x-sluice-cache"), "miss")
        let afterMiss = try await eventuallyScraped(daemon) { $0.sum("sluice_requests_total") == 1 }
        let hit = try await http.post(chatPath, to: endpoint, headers: key, body: OpenAIRequests.chat("spent"))
        XCTAssertEqual(hit.header("x-sluice-cache"), "hit")
        let afterHit = try await eventuallyScraped(daemon) { $0.sum("sluice_requests_total") == 2 }

        func moved(_ name: String, _ extra: [String: String] = [:], from: PrometheusScrape, to: PrometheusScrape) -> Double {
            let where_ = labels.merging(extra) { $1 }
            return to.sum(name, where: where_) - from.sum(name, where: where_)
        }
        // The miss spent exactly what the gateway reported, and saved nothing.
        XCTAssertEqual(moved("sluice_tokens_total", ["kind": "prompt"], from: before, to: afterMiss), Double(usage.promptTokens))
        XCTAssertEqual(moved("sluice_tokens_total", ["kind": "completion"], from: before, to: afterMiss), Double(usage.completionTokens))
        XCTAssertEqual(moved("sluice_cost_usd_total", from: before, to: afterMiss), usage.cost, accuracy: 1e-12)
        XCTAssertEqual(moved("sluice_saved_tokens_total", from: before, to: afterMiss), 0)
        XCTAssertEqual(moved("sluice_saved_cost_usd_total", from: before, to: afterMiss), 0)
        // The hit spent nothing and saved the same.
        XCTAssertEqual(moved("sluice_tokens_total", from: afterMiss, to: afterHit), 0)
        XCTAssertEqual(moved("sluice_cost_usd_total", from: afterMiss, to: afterHit), 0)
        XCTAssertEqual(moved("sluice_saved_tokens_total", from: afterMiss, to: afterHit), Double(usage.totalTokens))
        XCTAssertEqual(moved("sluice_saved_cost_usd_total", from: afterMiss, to: afterHit), usage.cost, accuracy: 1e-12)
        // Nothing was counted under any other key or model.
        XCTAssertEqual(afterHit.sum("sluice_tokens_total"), Double(usage.totalTokens))
        XCTAssertEqual(afterHit.sum("sluice_saved_tokens_total"), Double(usage.totalTokens))
        XCTAssertEqual(afterHit.sum("sluice_budget_refusals_total"), 0)
        let text = try await http.get("/metrics", to: endpoint).text
        XCTAssertFalse(text.contains(Self.clientKey), "a client key never becomes a label")
    }

    // MARK: Helpers

    private func scrape(_ daemon: DaemonProcess) async throws -> PrometheusScrape {
        let answer = try await http.get("/metrics", to: daemon.endpoint(.tcp))
        XCTAssertEqual(answer.status, 200)
        return try PrometheusScrape(answer.text)
    }

    /// Scrapes every 50 ms until `condition` holds (or 5 s pass); returns the last scrape.
    private func eventuallyScraped(
        _ daemon: DaemonProcess, _ condition: (PrometheusScrape) -> Bool
    ) async throws -> PrometheusScrape {
        let deadline = ContinuousClock.now + .seconds(5)
        var last = try await scrape(daemon)
        while !condition(last), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            last = try await scrape(daemon)
        }
        return last
    }
}
