import PostgresNIO
import SluiceCore
@testable import SluiceStore
import XCTest

final class PostgresUsageStoreTests: PostgresTestCase, @unchecked Sendable {
    /// 2026-11-26T00:00:00Z
    private let day = 1_795_651_200.0

    func testInsertStoresEveryField() async throws {
        let record = UsageRecord(
            timestamp: 1_790_000_000.25, keyID: "web", model: "openai/gpt-5", route: "/v1/chat/completions",
            streaming: true, status: 200, cacheOutcome: .hit,
            usage: TokenUsage(promptTokens: 1, completionTokens: 2, totalTokens: 3, cost: 0.5, cachedTokens: 1),
            saved: TokenUsage(promptTokens: 10, completionTokens: 20, totalTokens: 30, cost: 0.25),
            firstByteLatencyMs: 12.5, latencyMs: 40, upstreamLatencyMs: 30, requestBytes: 123,
            responseBytes: 456, errorCode: "none_really")
        try await withFreshDatabase { database in
            try await PostgresUsageStore(database: database).insert([record])
            let row = try await database.client.query("""
                SELECT timestamp, key_id, model, route, streaming, status, cache_outcome,
                       prompt_tokens, completion_tokens, total_tokens, cost,
                       saved_prompt_tokens, saved_completion_tokens, saved_total_tokens, saved_cost,
                       first_byte_latency_ms, latency_ms, upstream_latency_ms, request_bytes, response_bytes,
                       error_code, cached_tokens
                FROM usage
                """).collect().first?.decode((
                    Double, String, String, String, Bool, Int, String, Int, Int, Int, Double,
                    Int, Int, Int, Double, Double, Double, Double, Int, Int, String, Int).self)
            let fields = try XCTUnwrap(row)
            XCTAssertEqual(fields.0, 1_790_000_000.25)
            XCTAssertEqual(fields.1, "web")
            XCTAssertEqual(fields.2, "openai/gpt-5")
            XCTAssertEqual(fields.3, "/v1/chat/completions")
            XCTAssertEqual(fields.4, true)
            XCTAssertEqual(fields.5, 200)
            XCTAssertEqual(fields.6, "hit")
            XCTAssertEqual([fields.7, fields.8, fields.9], [1, 2, 3])
            XCTAssertEqual(fields.10, 0.5)
            XCTAssertEqual([fields.11, fields.12, fields.13], [10, 20, 30])
            XCTAssertEqual(fields.14, 0.25)
            XCTAssertEqual([fields.15, fields.16, fields.17], [12.5, 40, 30])
            XCTAssertEqual([fields.18, fields.19], [123, 456])
            XCTAssertEqual(fields.20, "none_really")
            XCTAssertEqual(fields.21, 1)
        }
    }

    func testMissingValuesAreStoredAsNull() async throws {
        try await withFreshDatabase { database in
            try await PostgresUsageStore(database: database).insert([
                UsageRows.make(at: 5, model: nil, status: 401, outcome: .none),
                UsageRows.make(at: 6, usage: TokenUsage(promptTokens: 1, completionTokens: 1, totalTokens: 2)),
            ])
            let rows = try await database.client.query(
                "SELECT model, prompt_tokens, saved_cost, cost, cached_tokens, error_code FROM usage ORDER BY timestamp"
            ).collect().map { try $0.decode((String?, Int?, Double?, Double?, Int?, String?).self) }
            XCTAssertEqual(rows.count, 2)
            XCTAssertNil(rows[0].0)
            XCTAssertNil(rows[0].1)
            XCTAssertNil(rows[0].2)
            XCTAssertNil(rows[0].4, "no usage, no cached tokens")
            XCTAssertEqual(rows[1].0, "openai/gpt-4o-mini")
            XCTAssertEqual(rows[1].1, 1)
            XCTAssertNil(rows[1].3, "no cost reported")
            XCTAssertEqual(rows[1].4, 0)
            XCTAssertNil(rows[1].5)
        }
    }

    func testALargeBatchIsOneStatement() async throws {
        try await withFreshDatabase { database in
            let rows = (0..<5_000).map { UsageRows.generated($0, start: self.day, spacing: 1) }
            try await PostgresUsageStore(database: database).insert(rows)
            try await PostgresUsageStore(database: database).insert([])
            let count = try await database.client.query("SELECT count(*) FROM usage").collect().first?.decode(Int.self)
            XCTAssertEqual(count, 5_000)
        }
    }

    func testPruneDeletesOnlyOlderRows() async throws {
        try await withFreshDatabase { database in
            let usage = PostgresUsageStore(database: database)
            try await usage.insert((0..<10).map { UsageRows.make(at: Double($0) * 100) })
            var pruned = try await usage.prune(olderThan: 500)
            XCTAssertEqual(pruned, 5)
            pruned = try await usage.prune(olderThan: 500)
            XCTAssertEqual(pruned, 0)
            let remaining = try await database.client.query("SELECT timestamp FROM usage ORDER BY timestamp")
                .collect().map { try $0.decode(Double.self) }
            XCTAssertEqual(remaining, [500, 600, 700, 800, 900])
        }
    }

    func testSpendByKeySumsReportedCostSinceATime() async throws {
        let cost = { (usd: Double?) in TokenUsage(promptTokens: 1, completionTokens: 1, totalTokens: 2, cost: usd) }
        try await withFreshDatabase { database in
            let store: any UsageRowStorage = PostgresUsageStore(database: database)
            try await store.insert([
                UsageRows.make(at: 99, key: "web", usage: cost(100)),  // before the window
                UsageRows.make(at: 100, key: "web", usage: cost(1.5)),
                UsageRows.make(at: 150, key: "web", usage: cost(0.25)),
                UsageRows.make(at: 160, key: "web", usage: cost(nil)),  // no cost reported
                UsageRows.make(at: 170, key: "web", outcome: .hit, saved: cost(9)),  // a hit saved, not spent
                UsageRows.make(at: 120, key: "batch", usage: cost(2)),
                UsageRows.make(at: 130, key: "idle", status: 429, outcome: .none),
            ])
            var spend = try await store.spendByKey(since: 100)
            XCTAssertEqual(spend, ["web": 1.75, "batch": 2])
            spend = try await store.spendByKey(since: 140)
            XCTAssertEqual(spend, ["web": 0.25])
            spend = try await store.spendByKey(since: 1_000)
            XCTAssertEqual(spend, [:])
        }
    }
}

/// The PostgreSQL reporter against the SQLite one, over the same rows.
final class PostgresStatsReporterTests: PostgresTestCase, @unchecked Sendable {
    /// 2026-11-26T00:00:00Z
    private let day = 1_795_651_200.0

    /// Rows over three days: generated ones plus the odd cases (no model, a
    /// stale answer, a damaged time, ties in request counts).
    private var rows: [UsageRecord] {
        var rows = (0..<3_000).map { UsageRows.generated($0, start: day, spacing: 83) }
        rows.append(UsageRows.make(at: day + 10, model: nil, status: 401, outcome: .none))
        rows.append(UsageRows.make(at: day + 20, key: "stale-key", model: "z-model", status: 200, outcome: .stale,
                                   saved: TokenUsage(promptTokens: 5, completionTokens: 5, totalTokens: 10, cost: 0.5)))
        rows.append(UsageRows.make(at: day + 30, key: "tie-b", model: "tie-b", route: "/v1/responses"))
        rows.append(UsageRows.make(at: day + 31, key: "tie-a", model: "tie-a", route: "/v1/embeddings"))
        rows.append(UsageRows.make(at: 1e300, key: "future", model: "far"))
        return rows
    }

    private var queries: [StatsQuery] {
        var queries = StatsGrouping.allCases.map { StatsQuery(grouping: $0) }
        queries += [
            StatsQuery(since: day + 86_400, grouping: .hour),
            StatsQuery(since: day + 3_600, until: day + 2 * 86_400, grouping: .model),
            StatsQuery(grouping: .status, keyID: "web"),
            StatsQuery(grouping: .day, model: "openai/gpt-5"),
            StatsQuery(since: day, grouping: .key, keyID: "batch", model: "anthropic/claude-sonnet-4"),
            StatsQuery(grouping: .model, keyID: "nobody"),
            StatsQuery(since: day + 100 * 86_400, grouping: .cache),
        ]
        return queries
    }

    func testReportsEqualTheSQLiteReportersForTheSameRows() async throws {
        let rows = self.rows
        let scratch = try ScratchFolder()
        let sqlite = try SluiceDatabase.open(path: scratch.file("sluice.db"))
        try UsageStore(database: sqlite).insert(rows)
        let expected = try queries.map { try StatsReporter(database: sqlite).report($0) }
        let queries = self.queries
        let reports = try await withFreshDatabase { database in
            try await PostgresUsageStore(database: database).insert(rows)
            let reporter: any UsageStatsStorage = PostgresStatsReporter(database: database)
            var reports: [StatsReport] = []
            for query in queries { reports.append(try await reporter.report(query)) }
            return reports
        }
        for (query, (report, expected)) in zip(queries, zip(reports, expected)) {
            Self.assertEqual(report, expected, "\(query)")
        }
        XCTAssertGreaterThan(expected[0].rows.count, 2)
        XCTAssertTrue(expected.contains { $0.isEmpty })
    }

    /// Equal, but for the last bits of the cost sums (the server adds in its own order).
    private static func assertEqual(_ report: StatsReport, _ expected: StatsReport, _ message: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(report.grouping, expected.grouping, message, file: file, line: line)
        XCTAssertEqual(report.rows.map(\.group), expected.rows.map(\.group), message, file: file, line: line)
        for (row, expectedRow) in zip(report.rows + [report.totals], expected.rows + [expected.totals]) {
            var exact = row
            exact.cost = expectedRow.cost
            exact.costSaved = expectedRow.costSaved
            XCTAssertEqual(exact, expectedRow, message, file: file, line: line)
            XCTAssertEqual(row.cost, expectedRow.cost, accuracy: 1e-9 * max(1, expectedRow.cost), message, file: file, line: line)
            XCTAssertEqual(row.costSaved, expectedRow.costSaved, accuracy: 1e-9 * max(1, expectedRow.costSaved),
                           message, file: file, line: line)
        }
    }
}
