import CoreMetrics
import Metrics
import NIOConcurrencyHelpers
import Prometheus
import SluiceCore

/// The daemon's Prometheus metrics.
///
/// Each instance owns its own `PrometheusCollectorRegistry` and hands a
/// `PrometheusMetricsFactory` over it to the swift-metrics types explicitly;
/// the global `MetricsSystem` is never bootstrapped, so several daemons can run
/// in one process (as the tests do).
///
/// Label values are bounded: see `MetricLabels`. Key ids and models are the
/// only client-derived labels: at most `keyIDLabelLimit` distinct key ids (one
/// bound shared by every family) and `modelLabelLimit` distinct models get
/// their own series, later ones count as `other`; the spend families also cap
/// their (key id, model) pairs at `spendSeriesLimit`.
///
/// Every family is in the exposition from the first scrape. An unlabelled
/// family has its series at 0; a labelled one has a placeholder series whose
/// label values are all empty, at 0. Prometheus treats an empty label value
/// as no label, so the placeholder is the family's unlabelled series and
/// `rate()`/`increase()` over the family work from the start. (swift-prometheus
/// refuses a truly unlabelled series beside labelled ones in one family.)
/// `sluice_budget_remaining_usd` is a gauge, where a 0 would read as "budget
/// spent": its placeholder is NaN, and goes once a real value is set.
public final class SluiceMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    /// Upper bounds of the `sluice_upstream_duration_seconds` buckets, 5 ms to 300 s.
    public static let upstreamDurationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        .seconds(60), .seconds(120), .seconds(300),
    ]

    /// The budget windows `setBudgetRemaining` knows; any other is `other`.
    public static let budgetWindows: Set<String> = ["day", "month"]

    /// The counters of one (key id, model) pair's upstream spend.
    private struct SpendHandles: Sendable {
        var promptTokens: CoreMetrics.Counter
        var completionTokens: CoreMetrics.Counter
        var costUSD: FloatingPointCounter
    }

    /// The counters of what one (key id, model) pair's hits and shared answers saved.
    private struct SavedHandles: Sendable {
        var tokens: CoreMetrics.Counter
        var costUSD: FloatingPointCounter
    }

    private let keyIDs: BoundedLabelValues
    private let models: BoundedLabelValues

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
    private let spent: LabeledHandleCache<SpendLabels, SpendHandles>
    private let saved: LabeledHandleCache<SpendLabels, SavedHandles>
    private let budgetRefusals: LabeledHandleCache<String, CoreMetrics.Counter>
    private let budgetRemaining: LabeledHandleCache<BudgetWindowLabels, Meter>
    /// The NaN placeholder of `sluice_budget_remaining_usd` until a real value is set.
    private let budgetRemainingPlaceholder: NIOLockedValueBox<Meter?>

    /// - Parameters:
    ///   - keyIDLabelLimit: distinct key ids with their own series, shared by every family.
    ///   - modelLabelLimit: distinct models with their own series.
    ///   - spendSeriesLimit: distinct (key id, model) pairs in each spend family.
    public init(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        keyIDLabelLimit: Int = 256,
        modelLabelLimit: Int = 64,
        spendSeriesLimit: Int = 1024
    ) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["sluice_upstream_duration_seconds"] = Self.upstreamDurationBuckets
        keyIDs = BoundedLabelValues(capacity: keyIDLabelLimit)
        models = BoundedLabelValues(capacity: modelLabelLimit)

        requests = LabeledHandleCache { [factory] labels in
            CoreMetrics.Counter(label: "sluice_requests_total", dimensions: labels.dimensions, factory: factory)
        }
        // Bounded by `keyIDs`, which lets through at most `keyIDLabelLimit` values and `other`.
        rateLimited = LabeledHandleCache { [factory] keyID in
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
        spent = LabeledHandleCache(capacity: spendSeriesLimit, overflowKey: SpendLabels.overflow) { [factory] labels in
            let pair = [("key_id", labels.keyID), ("model", labels.model)]
            return SpendHandles(
                promptTokens: CoreMetrics.Counter(label: "sluice_tokens_total", dimensions: pair + [("kind", "prompt")], factory: factory),
                completionTokens: CoreMetrics.Counter(label: "sluice_tokens_total", dimensions: pair + [("kind", "completion")], factory: factory),
                costUSD: FloatingPointCounter(label: "sluice_cost_usd_total", dimensions: pair, factory: factory)
            )
        }
        saved = LabeledHandleCache(capacity: spendSeriesLimit, overflowKey: SpendLabels.overflow) { [factory] labels in
            let pair = [("key_id", labels.keyID), ("model", labels.model)]
            return SavedHandles(
                tokens: CoreMetrics.Counter(label: "sluice_saved_tokens_total", dimensions: pair, factory: factory),
                costUSD: FloatingPointCounter(label: "sluice_saved_cost_usd_total", dimensions: pair, factory: factory)
            )
        }
        budgetRefusals = LabeledHandleCache { [factory] keyID in
            CoreMetrics.Counter(label: "sluice_budget_refusals_total", dimensions: [("key_id", keyID)], factory: factory)
        }
        budgetRemaining = LabeledHandleCache { [factory] labels in
            Meter(label: "sluice_budget_remaining_usd", dimensions: [("key_id", labels.keyID), ("window", labels.window)], factory: factory)
        }

        // Placeholders, so that every labelled family is exposed from the first scrape.
        func placeholder(_ label: String, _ names: [String]) {
            _ = CoreMetrics.Counter(label: label, dimensions: names.map { ($0, "") }, factory: factory)
        }
        placeholder("sluice_requests_total", ["route", "status", "cache"])
        placeholder("sluice_rate_limited_total", ["key_id"])
        placeholder("sluice_failures_total", ["kind"])
        placeholder("sluice_tokens_total", ["key_id", "model", "kind"])
        placeholder("sluice_saved_tokens_total", ["key_id", "model"])
        placeholder("sluice_budget_refusals_total", ["key_id"])
        for label in ["sluice_cost_usd_total", "sluice_saved_cost_usd_total"] {
            _ = FloatingPointCounter(label: label, dimensions: [("key_id", ""), ("model", "")], factory: factory)
        }
        let remaining = Meter(label: "sluice_budget_remaining_usd", dimensions: [("key_id", ""), ("window", "")], factory: factory)
        remaining.set(Double.nan)
        budgetRemainingPlaceholder = NIOLockedValueBox(remaining)
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

    /// Counts the tokens and cost of one request's usage row: what it spent
    /// upstream (`usage`) and what a hit or a shared answer saved (`saved`).
    public func recordSpend(_ row: UsageRecord) {
        if let usage = row.usage, usage.promptTokens > 0 || usage.completionTokens > 0 || Self.countable(usage.cost) {
            let handles = spent.handle(for: spendLabels(row))
            if usage.promptTokens > 0 { handles.promptTokens.increment(by: usage.promptTokens) }
            if usage.completionTokens > 0 { handles.completionTokens.increment(by: usage.completionTokens) }
            if let cost = usage.cost, Self.countable(cost) { handles.costUSD.increment(by: cost) }
        }
        if let usage = row.saved {
            let tokens = usage.totalTokens > 0 ? usage.totalTokens : max(0, usage.promptTokens) + max(0, usage.completionTokens)
            guard tokens > 0 || Self.countable(usage.cost) else { return }
            let handles = saved.handle(for: spendLabels(row))
            if tokens > 0 { handles.tokens.increment(by: tokens) }
            if let cost = usage.cost, Self.countable(cost) { handles.costUSD.increment(by: cost) }
        }
    }

    /// Counts one request refused because the key with id `keyID` is over its budget.
    public func recordBudgetRefusal(keyID: String) {
        budgetRefusals.handle(for: keyIDs.label(for: keyID)).increment()
    }

    /// What is left of the budget of the key with id `keyID` in `window`
    /// (`day` or `month`; anything else is `other`), in USD.
    public func setBudgetRemaining(keyID: String, window: String, usd: Double) {
        let labels = BudgetWindowLabels(
            keyID: keyIDs.label(for: keyID),
            window: Self.budgetWindows.contains(window) ? window : MetricLabels.other
        )
        budgetRemaining.handle(for: labels).set(usd)
        // The real series exists now, so the family stays when the placeholder goes.
        let placeholder = budgetRemainingPlaceholder.withLockedValue { placeholder in
            defer { placeholder = nil }
            return placeholder
        }
        placeholder?.destroy()
    }

    /// Records how long one upstream call took.
    public func recordUpstream(duration: Duration) {
        upstreamDuration.record(duration: duration)
    }

    /// Counts one refused request for the key with id `keyID` (never pass a key itself).
    public func recordRateLimited(keyID: String) {
        rateLimited.handle(for: keyIDs.label(for: keyID)).increment()
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

    // MARK: Labels

    private func spendLabels(_ row: UsageRecord) -> SpendLabels {
        SpendLabels(keyID: keyIDs.label(for: row.keyID), model: models.label(for: MetricLabels.model(row.model)))
    }

    /// A cost a counter can add: finite and above 0 (a counter never goes down).
    private static func countable(_ cost: Double?) -> Bool {
        guard let cost else { return false }
        return cost.isFinite && cost > 0
    }
}
