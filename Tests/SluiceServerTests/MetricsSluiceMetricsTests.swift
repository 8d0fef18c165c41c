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
        XCTAssertEqual(series(text, "sluice_requests_total").count, 2)
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
        XCTAssertEqual(series(text, "sluice_rate_limited_total").count, 3)
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
        XCTAssertEqual(series(render(second), "sluice_requests_total"), [])
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

    // MARK: - Reading the exposition

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
