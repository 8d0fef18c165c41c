import Foundation
import SluiceCore
@testable import SluiceStore
import XCTest

final class StatsReporterTests: XCTestCase {
    private var scratch: ScratchFolder!
    private var database: SluiceDatabase!
    private var reporter: StatsReporter!

    /// 2026-11-26T05:00:00Z
    private let day = 1_795_669_200.0 - 5 * 3_600

    override func setUpWithError() throws {
        scratch = try ScratchFolder()
        database = try SluiceDatabase.open(path: scratch.file("sluice.db"))
        reporter = StatsReporter(database: database)
    }

    override func tearDown() {
        reporter = nil
        database = nil
        scratch = nil
    }

    private func tokens(_ prompt: Int, _ completion: Int, cost: Double?) -> TokenUsage {
        TokenUsage(promptTokens: prompt, completionTokens: completion, totalTokens: prompt + completion, cost: cost)
    }

    /// Six requests on two models, two keys and two hours.
    private func insertKnownRows() throws {
        try UsageStore(database: database).insert([
            UsageRows.make(at: day + 5 * 3_600 + 10, key: "web", model: "m1", outcome: .miss,
                           usage: tokens(100, 20, cost: 0.01), latencyMs: 400),
            UsageRows.make(at: day + 5 * 3_600 + 20, key: "web", model: "m1", outcome: .hit,
                           saved: tokens(100, 20, cost: 0.01), latencyMs: 2),
            UsageRows.make(at: day + 5 * 3_600 + 30, key: "batch", model: "m1", outcome: .coalesced,
                           saved: tokens(100, 20, cost: 0.01), latencyMs: 380),
            UsageRows.make(at: day + 6 * 3_600 + 10, key: "batch", model: "m1", status: 429, outcome: .none,
                           latencyMs: 1),
            UsageRows.make(at: day + 6 * 3_600 + 20, key: "batch", model: "m2", status: 502, outcome: .miss,
                           latencyMs: 3_000),
            UsageRows.make(at: day + 6 * 3_600 + 30, key: "web", model: "m2", outcome: .bypass,
                           usage: tokens(50, 5, cost: nil), latencyMs: 800),
        ])
    }

    func testByModelCountsEverything() throws {
        try insertKnownRows()
        let report = try reporter.report(StatsQuery(grouping: .model))
        XCTAssertEqual(report.rows.map(\.group), ["m1", "m2"])
        XCTAssertEqual(report.rows[0], StatsRow(
            group: "m1", requests: 4, cacheHits: 2, hitRate: 0.5, errors: 0, rateLimited: 1,
            promptTokens: 100, completionTokens: 20, tokensSaved: 240, cost: 0.01, costSaved: 0.02,
            latencyP50Ms: 2, latencyP95Ms: 400))
        XCTAssertEqual(report.rows[1], StatsRow(
            group: "m2", requests: 2, cacheHits: 0, hitRate: 0, errors: 1, rateLimited: 0,
            promptTokens: 50, completionTokens: 5, tokensSaved: 0, cost: 0, costSaved: 0,
            latencyP50Ms: 800, latencyP95Ms: 3_000))
        XCTAssertEqual(report.totals.group, "total")
        XCTAssertEqual(report.totals.requests, 6)
        XCTAssertEqual(report.totals.cacheHits, 2)
        XCTAssertEqual(report.totals.hitRate, 2.0 / 6.0, accuracy: 1e-12)
        XCTAssertEqual(report.totals.tokensSaved, 240)
        XCTAssertEqual(report.totals.costSaved, 0.02, accuracy: 1e-12)
        // Sorted latencies 1, 2, 380, 400, 800, 3000: rank ceil(3) = 3, rank ceil(5.7) = 6.
        XCTAssertEqual(report.totals.latencyP50Ms, 380)
        XCTAssertEqual(report.totals.latencyP95Ms, 3_000)
    }

    func testEveryGroupingLabelsItsGroups() throws {
        try insertKnownRows()
        let expected: [StatsGrouping: [String: Int]] = [
            .key: ["web": 3, "batch": 3],
            .model: ["m1": 4, "m2": 2],
            .route: ["/v1/chat/completions": 6],
            .day: ["2026-11-26": 6],
            .hour: ["2026-11-26T05:00Z": 3, "2026-11-26T06:00Z": 3],
            .status: ["200": 4, "429": 1, "502": 1],
            .cache: ["miss": 2, "hit": 1, "coalesced": 1, "none": 1, "bypass": 1],
        ]
        for grouping in StatsGrouping.allCases {
            let report = try reporter.report(StatsQuery(grouping: grouping))
            let counts = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.group, $0.requests) })
            XCTAssertEqual(counts, expected[grouping], "\(grouping)")
            XCTAssertEqual(report.totals.requests, 6, "\(grouping)")
        }
    }

    func testTimeAndStatusGroupsAreInOrder() throws {
        try insertKnownRows()
        XCTAssertEqual(try reporter.report(StatsQuery(grouping: .hour)).rows.map(\.group),
                       ["2026-11-26T05:00Z", "2026-11-26T06:00Z"])
        XCTAssertEqual(try reporter.report(StatsQuery(grouping: .status)).rows.map(\.group), ["200", "429", "502"])
    }

    func testRowsWithoutModelGroupUnderNone() throws {
        try UsageStore(database: database).insert([UsageRows.make(at: day, model: nil, status: 401, outcome: .none)])
        let report = try reporter.report(StatsQuery(grouping: .model))
        XCTAssertEqual(report.rows.map(\.group), ["(none)"])
        XCTAssertEqual(report.rows.first?.errors, 1)
    }

    func testFiltersByTimeKeyAndModel() throws {
        try insertKnownRows()
        let sixOClock = day + 6 * 3_600
        XCTAssertEqual(try reporter.report(StatsQuery(since: sixOClock)).totals.requests, 3)
        XCTAssertEqual(try reporter.report(StatsQuery(until: sixOClock)).totals.requests, 3)
        XCTAssertEqual(try reporter.report(StatsQuery(since: sixOClock, until: sixOClock + 20)).totals.requests, 1)
        XCTAssertEqual(try reporter.report(StatsQuery(keyID: "web")).totals.requests, 3)
        XCTAssertEqual(try reporter.report(StatsQuery(model: "m2")).totals.requests, 2)
        XCTAssertEqual(try reporter.report(StatsQuery(since: sixOClock, keyID: "batch", model: "m1")).totals.requests, 1)
        XCTAssertEqual(try reporter.report(StatsQuery(keyID: "nobody")).rows, [])
    }

    func testEmptyRangeHasNoRowsAndZeroTotals() throws {
        try insertKnownRows()
        let report = try reporter.report(StatsQuery(since: day + 10 * 86_400))
        XCTAssertTrue(report.isEmpty)
        XCTAssertEqual(report.totals.requests, 0)
        XCTAssertEqual(report.totals.hitRate, 0)
        XCTAssertEqual(report.totals.latencyP95Ms, 0)
    }

    func testRowsWrittenOutOfTimeOrderAreStillInRange() throws {
        let usage = UsageStore(database: database)
        try usage.insert([UsageRows.make(at: day + 100)])
        // A long request that arrived earlier is flushed later, with a higher rowid.
        try usage.insert([UsageRows.make(at: day + 50), UsageRows.make(at: day + 10)])
        XCTAssertEqual(try reporter.report(StatsQuery(since: day + 40)).totals.requests, 2)
        XCTAssertEqual(try reporter.report(StatsQuery(since: day)).totals.requests, 3)
    }

    /// ~20k generated rows, checked against a plain recomputation. Correctness only: no timing.
    func testGeneratedRowsMatchABruteForceComputation() throws {
        let count = 20_000
        let start = day
        try UsageRows.insertGenerated(count: count, start: start, spacing: 7, into: UsageStore(database: database))
        let since = start + 7 * 2_500
        let report = try reporter.report(StatsQuery(since: since, grouping: .model))

        let records = (0..<count).map { UsageRows.generated($0, start: start, spacing: 7) }.filter { $0.timestamp >= since }
        let byModel = Dictionary(grouping: records) { $0.model ?? "" }
        XCTAssertEqual(report.rows.count, byModel.count)
        for row in report.rows {
            let group = try XCTUnwrap(byModel[row.group])
            let latencies = group.map(\.latencyMs).sorted()
            XCTAssertEqual(row.requests, group.count)
            XCTAssertEqual(row.cacheHits, group.filter { $0.cacheOutcome == .hit }.count)
            XCTAssertEqual(row.rateLimited, group.filter { $0.status == 429 }.count)
            XCTAssertEqual(row.errors, group.filter { $0.status >= 400 && $0.status != 429 }.count)
            XCTAssertEqual(row.promptTokens, group.compactMap(\.usage?.promptTokens).reduce(0, +))
            XCTAssertEqual(row.tokensSaved, group.compactMap(\.saved?.totalTokens).reduce(0, +))
            XCTAssertEqual(row.cost, group.compactMap(\.usage?.cost).reduce(0, +), accuracy: 1e-9)
            XCTAssertEqual(row.costSaved, group.compactMap(\.saved?.cost).reduce(0, +), accuracy: 1e-9)
            XCTAssertEqual(row.latencyP50Ms, latencies[Int((Double(latencies.count) * 0.50).rounded(.up)) - 1])
            XCTAssertEqual(row.latencyP95Ms, latencies[Int((Double(latencies.count) * 0.95).rounded(.up)) - 1])
        }
        XCTAssertEqual(report.totals.requests, records.count)
    }

    /// Times a report over `SLUICE_STATS_BENCHMARK_ROWS` rows (e.g. 1000000); skipped otherwise.
    /// Meant for a release build: `swift test -c release --filter testBenchmark`.
    func testBenchmarkLargeReport() throws {
        guard let rows = ProcessInfo.processInfo.environment["SLUICE_STATS_BENCHMARK_ROWS"].flatMap(Int.init) else {
            throw XCTSkip("set SLUICE_STATS_BENCHMARK_ROWS to run")
        }
        try UsageRows.insertGenerated(count: rows, start: day, spacing: 2, into: UsageStore(database: database))
        for grouping in [StatsGrouping.model, .hour] {
            let began = Date()
            let report = try reporter.report(StatsQuery(since: day, grouping: grouping))
            print("stats --by \(grouping) over \(report.totals.requests) rows: \(Date().timeIntervalSince(began)) s")
        }
    }
}
