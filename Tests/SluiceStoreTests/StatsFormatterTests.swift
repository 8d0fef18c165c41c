import Foundation
@testable import SluiceCore
import XCTest

final class StatsFormatterTests: XCTestCase {
    private let rows = [
        StatsRow(group: "openai/gpt-5", requests: 1_200, cacheHits: 300, hitRate: 0.25, errors: 3, rateLimited: 2,
                 promptTokens: 45_000, completionTokens: 9_000, tokensSaved: 12_345, cost: 1.5, costSaved: 0.125,
                 latencyP50Ms: 420.5, latencyP95Ms: 1_900),
        StatsRow(group: "a,\"b\"", requests: 1, cacheHits: 0, hitRate: 0, errors: 0, rateLimited: 0,
                 promptTokens: 0, completionTokens: 0, tokensSaved: 0, cost: 0.0000004, costSaved: 0,
                 latencyP50Ms: 3, latencyP95Ms: 3),
    ]

    private var report: StatsReport {
        StatsReport(grouping: .model, rows: rows, totals: StatsRow(
            group: "total", requests: 1_201, cacheHits: 300, hitRate: 300.0 / 1_201, errors: 3, rateLimited: 2,
            promptTokens: 45_000, completionTokens: 9_000, tokensSaved: 12_345, cost: 1.5000004, costSaved: 0.125,
            latencyP50Ms: 420.5, latencyP95Ms: 1_900))
    }

    private var emptyReport: StatsReport {
        StatsReport(grouping: .day, rows: [], totals: StatsRow(
            group: "total", requests: 0, cacheHits: 0, hitRate: 0, errors: 0, rateLimited: 0, promptTokens: 0,
            completionTokens: 0, tokensSaved: 0, cost: 0, costSaved: 0, latencyP50Ms: 0, latencyP95Ms: 0))
    }

    func testJSONHasExactlyTheContractFields() throws {
        let text = StatsFormatter.render(report, as: .json)
        let objects = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        XCTAssertEqual(objects.count, 2)
        let contractFields: Set<String> = [
            "group", "requests", "cache_hits", "hit_rate", "errors", "rate_limited", "prompt_tokens",
            "completion_tokens", "tokens_saved", "cost", "cost_saved", "latency_p50_ms", "latency_p95_ms",
        ]
        for object in objects {
            XCTAssertEqual(Set(object.keys), contractFields)
        }
        XCTAssertEqual(objects[0]["group"] as? String, "openai/gpt-5")
        XCTAssertEqual(objects[0]["requests"] as? Int, 1_200)
        XCTAssertEqual(objects[0]["hit_rate"] as? Double, 0.25)
        XCTAssertEqual(objects[0]["cost_saved"] as? Double, 0.125)
        XCTAssertEqual(objects[0]["latency_p50_ms"] as? Double, 420.5)
        XCTAssertEqual(objects[1]["group"] as? String, "a,\"b\"")
        XCTAssertFalse(text.contains("e-"), "numbers are written without exponents")
    }

    func testEmptyJSONIsAnEmptyArray() {
        XCTAssertEqual(StatsFormatter.render(emptyReport, as: .json), "[]\n")
    }

    func testCSVHasAHeaderAndQuotesWhereNeeded() {
        let lines = StatsFormatter.render(report, as: .csv).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.first, "group,requests,cache_hits,hit_rate,errors,rate_limited,prompt_tokens,completion_tokens,tokens_saved,cost,cost_saved,latency_p50_ms,latency_p95_ms")
        XCTAssertEqual(lines[1], "openai/gpt-5,1200,300,0.25,3,2,45000,9000,12345,1.5,0.125,420.5,1900")
        XCTAssertEqual(lines[2], "\"a,\"\"b\"\"\",1,0,0,0,0,0,0,0,0,0,3,3")
        XCTAssertEqual(lines.count, 4, "two rows and a final newline")
        XCTAssertEqual(StatsFormatter.render(emptyReport, as: .csv), StatsFormatter.fieldNames.joined(separator: ",") + "\n")
    }

    func testTableIsAlignedAndEndsWithTotals() {
        let lines = StatsFormatter.render(report, as: .table).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5)
        XCTAssertTrue(lines[0].hasPrefix("MODEL"))
        XCTAssertTrue(lines[1].hasPrefix("openai/gpt-5  "))
        XCTAssertTrue(lines[3].allSatisfy { $0 == "-" })
        let totals = lines[4]
        XCTAssertTrue(totals.hasPrefix("total "))
        XCTAssertTrue(totals.contains("1,201"))
        XCTAssertTrue(totals.contains("25.0"), "hit rate in percent")
        XCTAssertTrue(totals.hasSuffix("1900"))
        // Right-aligned numbers: every data line ends at the same column as the header.
        XCTAssertEqual(Set([lines[0], lines[1], lines[2], lines[4]].map(\.count)).count, 1)
    }

    func testEmptyTableSaysSo() {
        XCTAssertEqual(StatsFormatter.render(emptyReport, as: .table), "no requests recorded in this range\n")
    }

    func testDecimalText() {
        XCTAssertEqual(DecimalText.plain(0.0000004, places: 6), "0")
        XCTAssertEqual(DecimalText.plain(0.1 + 0.2, places: 6), "0.3")
        XCTAssertEqual(DecimalText.plain(-2.5, places: 2), "-2.5")
        XCTAssertEqual(DecimalText.plain(.nan, places: 2), "0")
        XCTAssertEqual(DecimalText.fixed(0.05, places: 4), "0.0500")
        XCTAssertEqual(DecimalText.fixed(1234.5, places: 0), "1235")
        XCTAssertEqual(DecimalText.grouped(1_234_567), "1,234,567")
        XCTAssertEqual(DecimalText.grouped(999), "999")
    }

    func testCacheStatisticsText() {
        XCTAssertEqual(CacheStatisticsFormatter.render(CacheStatistics(
            entries: 0, bodyBytes: 0, totalHits: 0, oldestCreatedAt: nil, newestCreatedAt: nil, models: [])),
            "cache is empty\n")
        let text = CacheStatisticsFormatter.render(CacheStatistics(
            entries: 3, bodyBytes: 3 * 1024 * 1024 / 2, totalHits: 1_500, oldestCreatedAt: 1_795_669_200,
            newestCreatedAt: 1_795_669_261, models: [.init(model: "m1", entries: 2, bodyBytes: 1024, hits: 1_500),
                                                     .init(model: nil, entries: 1, bodyBytes: 10, hits: 0)]))
        XCTAssertTrue(text.contains("size:     1.5 MiB"), text)
        XCTAssertTrue(text.contains("hits:     1,500"), text)
        XCTAssertTrue(text.contains("oldest:   2026-11-26T05:00:00Z"), text)
        XCTAssertTrue(text.contains("newest:   2026-11-26T05:01:01Z"), text)
        XCTAssertTrue(text.contains("(none)"), text)
    }
}
