import SluiceCore
import XCTest
@testable import SluiceServer

final class SluiceMetricsTests: XCTestCase {
    func testCountsRequestsPerRouteStatusAndCacheOutcome() {
        let metrics = SluiceMetrics()

        metrics.recordRequest(route: "/v1/chat/completions", status: 200, cache: .hit)
        metrics.recordRequest(route: "/chat/completions", status: 200, cache: .hit)
        metrics.recordRequest(route: "/v1/chat/completions", status: 200, cache: .miss)
        metrics.recordRequest(route: "/v1/embeddings", status: 429, cache: .none)

        let text = render(metrics)
        XCTAssertTrue(text.contains("# TYPE sluice_requests_total counter"))
        XCTAssertEqual(sample(text, "sluice_requests_total", ["route": "/v1/chat/completions", "status": "200", "cache": "hit"]), 2)
        XCTAssertEqual(sample(text, "sluice_requests_total", ["route": "/v1/chat/completions", "status": "200", "cache": "miss"]), 1)
        XCTAssertEqual(sample(text, "sluice_requests_total", ["route": "/v1/embeddings", "status": "429", "cache": "none"]), 1)
    }

    func testUnknownRoutesAndStatusesShareOneLabel() {
        let metrics = SluiceMetrics()

        metrics.recordRequest(route: "/v1/files/file-abc123", status: 200, cache: .bypass)
        metrics.recordRequest(route: "/../../etc/passwd", status: 200, cache: .bypass)
        metrics.recordRequest(route: "/v1/models", status: 1_000, cache: .bypass)

        let text = render(metrics)
        XCTAssertEqual(sample(text, "sluice_requests_total", ["route": "other", "status": "200", "cache": "bypass"]), 2)
        XCTAssertEqual(sample(text, "sluice_requests_total", ["route": "/v1/models", "status": "other", "cache": "bypass"]), 1)
        XCTAssertFalse(text.contains("file-abc123"))
        XCTAssertFalse(text.contains("passwd"))
        XCTAssertEqual(recorded(text, "sluice_requests_total").count, 2)
    }

    func testRateLimitedKeyIDsAreBounded() {
        let metrics = SluiceMetrics(keyIDLabelLimit: 2)

        metrics.recordRateLimited(keyID: "web")
        metrics.recordRateLimited(keyID: "web")
        metrics.recordRateLimited(keyID: "0123456789ab")
        metrics.recordRateLimited(keyID: "batch")
        metrics.recordRateLimited(keyID: "nightly")
        metrics.recordRateLimited(keyID: "web")

        let text = render(metrics)
        XCTAssertEqual(sample(text, "sluice_rate_limited_total", ["key_id": "web"]), 3)
        XCTAssertEqual(sample(text, "sluice_rate_limited_total", ["key_id": "0123456789ab"]), 1)
        XCTAssertEqual(sample(text, "sluice_rate_limited_total", ["key_id": "other"]), 2)
        XCTAssertEqual(recorded(text, "sluice_rate_limited_total").count, 3)
    }

    func testUpstreamDurationsFillHistogramBucketsInSeconds() throws {
        let metrics = SluiceMetrics()

        metrics.recordUpstream(duration: .milliseconds(20))
        metrics.recordUpstream(duration: .seconds(2))
        metrics.recordUpstream(duration: .seconds(400))

        let text = render(metrics)
        XCTAssertTrue(text.contains("# TYPE sluice_upstream_duration_seconds histogram"))
        XCTAssertEqual(sample(text, "sluice_upstream_duration_seconds_bucket", ["le": "0.005"]), 0)
        XCTAssertEqual(sample(text, "sluice_upstream_duration_seconds_bucket", ["le": "0.025"]), 1)
        XCTAssertEqual(sample(text, "sluice_upstream_duration_seconds_bucket", ["le": "2.5"]), 2)
        XCTAssertEqual(sample(text, "sluice_upstream_duration_seconds_bucket", ["le": "300.0"]), 2)
        XCTAssertEqual(sample(text, "sluice_upstream_duration_seconds_bucket", ["le": "+Inf"]), 3)
        XCTAssertEqual(sample(text, "sluice_upstream_duration_seconds_count", [:]), 3)
        XCTAssertEqual(try XCTUnwrap(sample(text, "sluice_upstream_duration_seconds_sum", [:])), 402.02, accuracy: 0.0001)
    }

    func testGaugesHoldTheLastValue() {
        let metrics = SluiceMetrics()

        metrics.setCache(entries: 10, bytes: 4096)
        metrics.setCache(entries: 12, bytes: 5000)
        metrics.setUsageQueueDepth(7)
        metrics.requestStarted()
        metrics.requestStarted()
        metrics.requestFinished()

        let text = render(metrics)
        XCTAssertEqual(sample(text, "sluice_cache_entries", [:]), 12)
        XCTAssertEqual(sample(text, "sluice_cache_bytes", [:]), 5000)
        XCTAssertEqual(sample(text, "sluice_usage_queue_depth", [:]), 7)
        XCTAssertEqual(sample(text, "sluice_inflight_requests", [:]), 1)
    }

    func testUsageRowCounters() {
        let metrics = SluiceMetrics()

        metrics.recordUsageRowsWritten(100)
        metrics.recordUsageRowsWritten(28)
        metrics.recordUsageRowsDropped(3)

        let text = render(metrics)
        XCTAssertEqual(sample(text, "sluice_usage_rows_written_total", [:]), 128)
        XCTAssertEqual(sample(text, "sluice_usage_rows_dropped_total", [:]), 3)
    }

    func testUnlabeledMetricsAreExposedBeforeAnythingHappens() {
        let text = render(SluiceMetrics())

        for name in [
            "sluice_cache_entries", "sluice_cache_bytes", "sluice_usage_queue_depth", "sluice_inflight_requests",
            "sluice_usage_rows_written_total", "sluice_usage_rows_dropped_total",
        ] {
            XCTAssertEqual(sample(text, name, [:]), 0, name)
        }
    }

    func testInstancesDoNotShareState() {
        let first = SluiceMetrics()
        let second = SluiceMetrics()

        first.recordRequest(route: "/healthz", status: 200, cache: .none)

        XCTAssertEqual(sample(render(first), "sluice_requests_total", ["route": "/healthz", "status": "200", "cache": "none"]), 1)
        XCTAssertEqual(recorded(render(second), "sluice_requests_total"), [])
    }

    func testConcurrentRecordingLosesNoCounts() async {
        let metrics = SluiceMetrics()

        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for _ in 0..<1_000 {
                        metrics.recordRequest(route: "/v1/chat/completions", status: 200, cache: task.isMultiple(of: 2) ? .hit : .miss)
                    }
                }
            }
        }

        let text = render(metrics)
        XCTAssertEqual(sample(text, "sluice_requests_total", ["route": "/v1/chat/completions", "status": "200", "cache": "hit"]), 4_000)
        XCTAssertEqual(sample(text, "sluice_requests_total", ["route": "/v1/chat/completions", "status": "200", "cache": "miss"]), 4_000)
    }

    // MARK: - Every family from the start

    /// Each family and its type, as a fresh instance exposes it.
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

    func testFreshInstanceExposesEveryFamilyAtZero() throws {
        let text = render(SluiceMetrics())

        for (name, type) in Self.families {
            XCTAssertTrue(text.contains("# TYPE \(name) \(type)\n"), name)
            let sampleName = type == "histogram" ? name + "_count" : name
            let lines = series(text, sampleName)
            XCTAssertEqual(lines.count, 1, "one series of \(name) before anything happened")
            let value = try XCTUnwrap(lines.first.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }, name)
            if name == "sluice_budget_remaining_usd" {
                XCTAssertTrue(value.isNaN, "no budget known yet: not a misleading 0")
            } else {
                XCTAssertEqual(value, 0, name)
            }
            XCTAssertEqual(recorded(text, sampleName).filter { $0.contains("{") }, [], "only a placeholder in \(name)")
        }
        XCTAssertEqual(sample(text, "sluice_requests_total", ["route": "", "status": "", "cache": ""]), 0)
        XCTAssertEqual(sample(text, "sluice_tokens_total", ["key_id": "", "model": "", "kind": ""]), 0)
        XCTAssertEqual(sample(text, "sluice_cost_usd_total", ["key_id": "", "model": ""]), 0)
    }

    func testLabelledSeriesRenderBesideThePlaceholder() {
        let metrics = SluiceMetrics()

        metrics.recordRequest(route: "/v1/chat/completions", status: 200, cache: .miss)
        metrics.recordSpend(Self.row(keyID: "web", model: "openai/gpt-4o-mini", usage: Self.usage))
        metrics.recordBudgetRefusal(keyID: "web")

        let text = render(metrics)
        for name in ["sluice_requests_total", "sluice_tokens_total", "sluice_cost_usd_total", "sluice_budget_refusals_total"] {
            XCTAssertEqual(text.components(separatedBy: "# TYPE \(name) ").count, 2, "one TYPE line for \(name)")
        }
        XCTAssertEqual(sample(text, "sluice_requests_total", ["route": "", "status": "", "cache": ""]), 0)
        XCTAssertEqual(sample(text, "sluice_requests_total", ["route": "/v1/chat/completions", "status": "200", "cache": "miss"]), 1)
        XCTAssertEqual(sample(text, "sluice_budget_refusals_total", ["key_id": ""]), 0)
        XCTAssertEqual(sample(text, "sluice_budget_refusals_total", ["key_id": "web"]), 1)
    }

    // MARK: - Spend

    static let usage = TokenUsage(promptTokens: 12, completionTokens: 7, totalTokens: 19, cost: 0.000245)

    func testSpendCountsTokensByKindAndCostInUSD() throws {
        let metrics = SluiceMetrics()
        let model = "openai/gpt-4o-mini"

        metrics.recordSpend(Self.row(keyID: "web", model: model, usage: Self.usage))
        metrics.recordSpend(Self.row(keyID: "web", model: model, usage: Self.usage))
        metrics.recordSpend(Self.row(keyID: "batch", model: model, usage: TokenUsage(promptTokens: 5, completionTokens: 0, totalTokens: 5, cost: 0.1)))

        let text = render(metrics)
        XCTAssertEqual(sample(text, "sluice_tokens_total", ["key_id": "web", "model": model, "kind": "prompt"]), 24)
        XCTAssertEqual(sample(text, "sluice_tokens_total", ["key_id": "web", "model": model, "kind": "completion"]), 14)
        XCTAssertEqual(try XCTUnwrap(sample(text, "sluice_cost_usd_total", ["key_id": "web", "model": model])), 0.00049, accuracy: 1e-12)
        XCTAssertEqual(sample(text, "sluice_tokens_total", ["key_id": "batch", "model": model, "kind": "prompt"]), 5)
        XCTAssertEqual(sample(text, "sluice_tokens_total", ["key_id": "batch", "model": model, "kind": "completion"]), 0)
        XCTAssertEqual(sample(text, "sluice_cost_usd_total", ["key_id": "batch", "model": model]), 0.1)
        XCTAssertEqual(recorded(text, "sluice_saved_tokens_total"), [], "nothing was saved")
    }

    func testFractionalCostsAccumulateAsDoubles() throws {
        let metrics = SluiceMetrics()
        let cheap = TokenUsage(promptTokens: 1, completionTokens: 1, totalTokens: 2, cost: 0.0000125)

        for _ in 0..<1_000 {
            metrics.recordSpend(Self.row(keyID: "web", model: "m", usage: cheap))
        }

        let cost = try XCTUnwrap(sample(render(metrics), "sluice_cost_usd_total", ["key_id": "web", "model": "m"]))
        XCTAssertEqual(cost, 0.0125, accuracy: 1e-12, "not rounded to whole dollars")
    }

    func testSavedCountsHitsAndSharedAnswers() throws {
        let metrics = SluiceMetrics()

        metrics.recordSpend(Self.row(keyID: "web", model: "m", cache: .hit, saved: Self.usage))
        metrics.recordSpend(Self.row(keyID: "web", model: "m", cache: .coalesced, saved: Self.usage))

        let text = render(metrics)
        XCTAssertEqual(sample(text, "sluice_saved_tokens_total", ["key_id": "web", "model": "m"]), 38)
        XCTAssertEqual(try XCTUnwrap(sample(text, "sluice_saved_cost_usd_total", ["key_id": "web", "model": "m"])), 0.00049, accuracy: 1e-12)
        XCTAssertEqual(recorded(text, "sluice_tokens_total"), [], "a hit spends nothing upstream")
    }

    func testUsageWithoutCostOrTokensAndBadCostsAreSafe() {
        let metrics = SluiceMetrics()

        metrics.recordSpend(Self.row(keyID: "web", model: "m", usage: TokenUsage(promptTokens: 3, completionTokens: 2, totalTokens: 5)))
        metrics.recordSpend(Self.row(keyID: "web", model: "m", usage: TokenUsage(promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: -1)))
        metrics.recordSpend(Self.row(keyID: "web", model: "m", usage: TokenUsage(promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: .nan)))
        metrics.recordSpend(Self.row(keyID: "nobody", model: "m"))

        let text = render(metrics)
        XCTAssertEqual(sample(text, "sluice_tokens_total", ["key_id": "web", "model": "m", "kind": "prompt"]), 3)
        XCTAssertEqual(sample(text, "sluice_cost_usd_total", ["key_id": "web", "model": "m"]), 0)
        XCTAssertFalse(text.contains("nobody"), "a row without usage makes no series")
    }

    func testSpendLabelsAreBounded() {
        let metrics = SluiceMetrics(keyIDLabelLimit: 2, modelLabelLimit: 2)

        metrics.recordRateLimited(keyID: "web")
        for model in ["a", "b", "c", "d"] {
            metrics.recordSpend(Self.row(keyID: "web", model: model, usage: Self.usage))
        }
        metrics.recordSpend(Self.row(keyID: "batch", model: "a", usage: Self.usage))
        metrics.recordSpend(Self.row(keyID: "nightly", model: "a", usage: Self.usage))
        metrics.recordSpend(Self.row(keyID: "web", model: nil, usage: Self.usage))
        metrics.recordBudgetRefusal(keyID: "late")

        let text = render(metrics)
        let prompt = "sluice_tokens_total"
        XCTAssertEqual(sample(text, prompt, ["key_id": "web", "model": "a", "kind": "prompt"]), 12)
        XCTAssertEqual(sample(text, prompt, ["key_id": "web", "model": "b", "kind": "prompt"]), 12)
        XCTAssertEqual(sample(text, prompt, ["key_id": "web", "model": "other", "kind": "prompt"]), 36, "c, d and the request without a model")
        XCTAssertEqual(sample(text, prompt, ["key_id": "batch", "model": "a", "kind": "prompt"]), 12)
        XCTAssertEqual(sample(text, prompt, ["key_id": "other", "model": "a", "kind": "prompt"]), 12, "past two key ids, shared with rate limiting")
        XCTAssertEqual(sample(text, "sluice_budget_refusals_total", ["key_id": "other"]), 1)
        XCTAssertEqual(recorded(text, prompt).count, 10, "5 pairs (web: a, b, other; batch: a; other: a) x 2 kinds")
        XCTAssertFalse(text.contains("nightly"))
        XCTAssertFalse(text.contains("model=\"c\""))
    }

    func testSpendPairsAreBounded() {
        let metrics = SluiceMetrics(spendSeriesLimit: 2)

        for key in ["k1", "k2", "k3", "k4"] {
            metrics.recordSpend(Self.row(keyID: key, model: "m", usage: Self.usage))
        }

        let text = render(metrics)
        XCTAssertEqual(sample(text, "sluice_cost_usd_total", ["key_id": "other", "model": "other"]), 0.00049)
        XCTAssertEqual(recorded(text, "sluice_cost_usd_total").count, 3)
    }

    func testUnknownModelAndLongModelNames() {
        let metrics = SluiceMetrics()
        let long = String(repeating: "x", count: 500)

        metrics.recordSpend(Self.row(keyID: "web", model: nil, usage: Self.usage))
        metrics.recordSpend(Self.row(keyID: "web", model: "", usage: Self.usage))
        metrics.recordSpend(Self.row(keyID: "web", model: long, usage: Self.usage))

        let text = render(metrics)
        XCTAssertEqual(sample(text, "sluice_tokens_total", ["key_id": "web", "model": "unknown", "kind": "prompt"]), 24)
        XCTAssertEqual(sample(text, "sluice_tokens_total", ["key_id": "web", "model": String(long.prefix(128)), "kind": "prompt"]), 12)
        XCTAssertFalse(text.contains(long))
    }

    // MARK: - Budgets

    func testBudgetRefusalsByKeyID() {
        let metrics = SluiceMetrics()

        metrics.recordBudgetRefusal(keyID: "web")
        metrics.recordBudgetRefusal(keyID: "web")
        metrics.recordBudgetRefusal(keyID: "batch")

        let text = render(metrics)
        XCTAssertEqual(sample(text, "sluice_budget_refusals_total", ["key_id": "web"]), 2)
        XCTAssertEqual(sample(text, "sluice_budget_refusals_total", ["key_id": "batch"]), 1)
    }

    func testBudgetRemainingHoldsTheLastValueAndReplacesThePlaceholder() {
        let metrics = SluiceMetrics()

        metrics.setBudgetRemaining(keyID: "web", window: "day", usd: 5)
        metrics.setBudgetRemaining(keyID: "web", window: "day", usd: 4.75)
        metrics.setBudgetRemaining(keyID: "web", window: "month", usd: 299.5)
        metrics.setBudgetRemaining(keyID: "web", window: "week", usd: 1)

        let text = render(metrics)
        XCTAssertTrue(text.contains("# TYPE sluice_budget_remaining_usd gauge\n"))
        XCTAssertEqual(sample(text, "sluice_budget_remaining_usd", ["key_id": "web", "window": "day"]), 4.75)
        XCTAssertEqual(sample(text, "sluice_budget_remaining_usd", ["key_id": "web", "window": "month"]), 299.5)
        XCTAssertEqual(sample(text, "sluice_budget_remaining_usd", ["key_id": "web", "window": "other"]), 1)
        XCTAssertNil(sample(text, "sluice_budget_remaining_usd", ["key_id": "", "window": ""]), "the NaN placeholder is gone")
        XCTAssertEqual(series(text, "sluice_budget_remaining_usd").count, 3)
    }

    func testConcurrentSpendLosesNothing() async throws {
        let metrics = SluiceMetrics()

        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for _ in 0..<500 {
                        metrics.recordSpend(Self.row(keyID: "k\(task % 2)", model: "m", usage: Self.usage))
                    }
                }
            }
        }

        let text = render(metrics)
        XCTAssertEqual(sample(text, "sluice_tokens_total", ["key_id": "k0", "model": "m", "kind": "prompt"]), 4 * 500 * 12)
        XCTAssertEqual(try XCTUnwrap(sample(text, "sluice_cost_usd_total", ["key_id": "k1", "model": "m"])), 4 * 500 * 0.000245, accuracy: 1e-9)
    }

    private static func row(
        keyID: String, model: String?, cache: CacheOutcome = .miss, usage: TokenUsage? = nil, saved: TokenUsage? = nil
    ) -> UsageRecord {
        UsageRecord(
            timestamp: 0, keyID: keyID, model: model, route: "/v1/chat/completions", streaming: false,
            status: 200, cacheOutcome: cache, usage: usage, saved: saved,
            firstByteLatencyMs: nil, latencyMs: 1, upstreamLatencyMs: nil,
            requestBytes: 0, responseBytes: 0, errorCode: nil)
    }

    // MARK: - Reading the exposition

    /// The series of `name` that something recorded: not the placeholder
    /// whose label values are all empty.
    private func recorded(_ text: String, _ name: String) -> [Substring] {
        series(text, name).filter { line in
            guard let open = line.firstIndex(of: "{"), let close = line.firstIndex(of: "}") else { return true }
            return line[open..<close].replacingOccurrences(of: "=\"\"", with: "").contains("=")
        }
    }

    private func render(_ metrics: SluiceMetrics) -> String {
        String(decoding: metrics.render(), as: UTF8.self)
    }

    /// The sample lines of metric `name` (not its `_bucket`/`_sum` siblings).
    private func series(_ text: String, _ name: String) -> [Substring] {
        text.split(separator: "\n").filter { line in
            line.hasPrefix(name + "{") || line.hasPrefix(name + " ")
        }
    }

    /// The value of the sample of `name` whose labels are exactly `labels`.
    private func sample(_ text: String, _ name: String, _ labels: [String: String]) -> Double? {
        for line in series(text, name) {
            guard let space = line.lastIndex(of: " ") else { continue }
            let head = line[..<space]
            var found: [String: String] = [:]
            if let open = head.firstIndex(of: "{"), head.hasSuffix("}") {
                let body = head[head.index(after: open)..<head.index(before: head.endIndex)]
                for pair in body.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    found[String(parts[0])] = String(parts[1].dropFirst().dropLast())
                }
            }
            if found == labels {
                return Double(line[line.index(after: space)...])
            }
        }
        return nil
    }
}
