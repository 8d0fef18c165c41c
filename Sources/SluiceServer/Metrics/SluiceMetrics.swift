import CoreMetrics
import Metrics
import Prometheus
import SluiceCore

/// The daemon's Prometheus metrics.
///
/// Each instance owns its own `PrometheusCollectorRegistry` and hands a
/// `PrometheusMetricsFactory` over it to the swift-metrics types explicitly;
/// the global `MetricsSystem` is never bootstrapped, so several daemons can run
/// in one process (as the tests do). Label values are bounded: see
/// `MetricLabels`. Key ids are the only client-derived label, and at most
/// `keyIDLabelLimit` distinct ones get their own series.
public final class SluiceMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    /// Upper bounds of the `sluice_upstream_duration_seconds` buckets, 5 ms to 300 s.
    public static let upstreamDurationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        .seconds(60), .seconds(120), .seconds(300),
    ]

    private let requests: LabeledHandleCache<RequestLabels, CoreMetrics.Counter>
    private let rateLimited: LabeledHandleCache<String, CoreMetrics.Counter>
    private let upstreamDuration: CoreMetrics.Timer
    private let cacheEntries: Meter
    private let cacheBytes: Meter
    private let usageQueueDepth: Meter
    private let usageRowsDropped: CoreMetrics.Counter
    private let usageRowsWritten: CoreMetrics.Counter
    private let inflightRequests: Meter
    private let failures: LabeledHandleCache<String, CoreMetrics.Counter>

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), keyIDLabelLimit: Int = 256) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["sluice_upstream_duration_seconds"] = Self.upstreamDurationBuckets

        requests = LabeledHandleCache { [factory] labels in
            CoreMetrics.Counter(label: "sluice_requests_total", dimensions: labels.dimensions, factory: factory)
        }
        rateLimited = LabeledHandleCache(capacity: keyIDLabelLimit, overflowKey: MetricLabels.other) { [factory] keyID in
            CoreMetrics.Counter(label: "sluice_rate_limited_total", dimensions: [("key_id", keyID)], factory: factory)
        }
        upstreamDuration = CoreMetrics.Timer(label: "sluice_upstream_duration_seconds", factory: factory)
        cacheEntries = Meter(label: "sluice_cache_entries", factory: factory)
        cacheBytes = Meter(label: "sluice_cache_bytes", factory: factory)
        usageQueueDepth = Meter(label: "sluice_usage_queue_depth", factory: factory)
        usageRowsDropped = CoreMetrics.Counter(label: "sluice_usage_rows_dropped_total", factory: factory)
        usageRowsWritten = CoreMetrics.Counter(label: "sluice_usage_rows_written_total", factory: factory)
        inflightRequests = Meter(label: "sluice_inflight_requests", factory: factory)
        failures = LabeledHandleCache(capacity: 32, overflowKey: MetricLabels.other) { [factory] kind in
            CoreMetrics.Counter(label: "sluice_failures_total", dimensions: [("kind", kind)], factory: factory)
        }
    }

    /// Counts one answered request. `route` is the request path; unknown paths count as `other`.
    public func recordRequest(route: String, status: Int, cache: CacheOutcome) {
        let labels = RequestLabels(
            route: MetricLabels.route(route),
            status: MetricLabels.status(status),
            cache: MetricLabels.cache(cache)
        )
        requests.handle(for: labels).increment()
    }

    /// Records how long one upstream call took.
    public func recordUpstream(duration: Duration) {
        upstreamDuration.record(duration: duration)
    }

    /// Counts one refused request for the key with id `keyID` (never pass a key itself).
    public func recordRateLimited(keyID: String) {
        rateLimited.handle(for: keyID).increment()
    }

    /// The cache's current size.
    public func setCache(entries: Int, bytes: Int) {
        cacheEntries.set(entries)
        cacheBytes.set(bytes)
    }

    /// Usage rows waiting to be written.
    public func setUsageQueueDepth(_ depth: Int) {
        usageQueueDepth.set(depth)
    }

    public func recordUsageRowsWritten(_ count: Int) {
        usageRowsWritten.increment(by: count)
    }

    /// Usage rows lost because the queue was full or a write failed.
    public func recordUsageRowsDropped(_ count: Int) {
        usageRowsDropped.increment(by: count)
    }

    /// Counts failed storage or upstream operations by kind (a fixed set of
    /// names, e.g. `cache_store`, `usage_write`, `upstream_connect`).
    public func recordFailure(kind: String, count: Int = 1) {
        failures.handle(for: kind).increment(by: count)
    }

    /// A request has arrived; pair with `requestFinished()`.
    public func requestStarted() {
        inflightRequests.increment()
    }

    public func requestFinished() {
        inflightRequests.decrement()
    }

    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    public func render() -> [UInt8] {
        registry.emitToBuffer()
    }

    /// The `Content-Type` of `render()`'s output.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}
