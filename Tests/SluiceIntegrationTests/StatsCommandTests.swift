import Foundation
import GRDB
import SluiceCore
import SluiceStore
import XCTest

/// `sluice stats` over a database the real daemon wrote (CONTRACT, "Usage rows and stats").
final class StatsCommandTests: DaemonTestCase {
    /// The contract's json fields, in order; also the csv header.
    static let fields = [
        "group", "requests", "cache_hits", "hit_rate", "errors", "rate_limited", "prompt_tokens",
        "completion_tokens", "tokens_saved", "cost", "cost_saved", "latency_p50_ms", "latency_p95_ms",
    ]

    /// Totals of the known mix (see `runKnownMix`): 14 requests; 3 hits and 1 coalesced;
    /// a 500 and a 400; two 429s. Spent: 2 misses at 12+7 tokens and $0.000245, then a
    /// stream and the slow leader at 30+11 and $0.0015, and the embeddings at 30 and
    /// $0.0015. Saved: 3 hits of the first answers (19, $0.000245) and the coalesced
    /// one (41, $0.0015).
    static let mixTotals = ExpectedGroup(
        group: "total", requests: 14, cacheHits: 4, hitRate: 4.0 / 14, errors: 2, rateLimited: 2,
        promptTokens: 2 * 12 + 3 * 30, completionTokens: 2 * 7 + 2 * 11, tokensSaved: 3 * 19 + 41,
        cost: 2 * 0.000245 + 3 * 0.0015, costSaved: 3 * 0.000245 + 0.0015, latencyP50Ms: nil, latencyP95Ms: nil)

    func testEveryGroupingGivesTheTotalsOfItsRows() async throws {
        let mix = try await runKnownMix()
        let rows = try await UsageTable.rows(at: mix.databasePath)
        let rowTotals = ExpectedGroup(rows: rows, group: "total")
        XCTAssertTrue(rowTotals.matches(Self.mixTotals), "the rows themselves:\n got \(rowTotals)\nwant \(Self.mixTotals)")

        let groupings: [(String, (StoredUsageRow) -> String)] = [
            ("model", { $0.model ?? "(none)" }),
            ("route", { $0.route }),
            ("cache", { $0.cacheOutcome }),
            ("status", { String($0.status) }),
            ("key", { $0.keyID }),
        ]
        for (grouping, label) in groupings {
            let groups = try await statsJSON(["--by", grouping], db: mix.databasePath)
            let expected = Dictionary(grouping: rows, by: label).map { ExpectedGroup(rows: $1, group: $0) }
            XCTAssertEqual(groups.map(\.group).sorted(), expected.map(\.group).sorted(), "--by \(grouping)")
            for group in groups {
                guard let want = expected.first(where: { $0.group == group.group }) else { continue }
                XCTAssertTrue(group.matches(want), "--by \(grouping), \(group.group):\n got \(group)\nwant \(want)")
            }
            XCTAssertTrue(ExpectedGroup.sum(groups).matches(Self.mixTotals), "--by \(grouping) adds up to the mix")
        }
        let byStatus = try await statsJSON(["--by", "status"], db: mix.databasePath)
        XCTAssertEqual(byStatus.map(\.group), ["200", "400", "429", "500"], "status groups in order")
        let byCache = try await statsJSON(["--by", "cache"], db: mix.databasePath)
        XCTAssertEqual(byCache.first { $0.group == "coalesced" }?.cacheHits, 1, "a coalesced request counts as a hit")
    }

    func testJSONCSVAndTableCarryTheSameNumbers() async throws {
        let mix = try await runKnownMix()

        let json = try await stats(["--by", "model", "--format", "json"], db: mix.databasePath)
        XCTAssertEqual(json.exitCode, 0, json.standardError)
        let objects = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]], json.standardOutput)
        XCTAssertEqual(objects.count, 5, "models: gpt-4o-mini, fail-500, (none), embeddings, slow-400ms")
        for object in objects {
            XCTAssertEqual(Set(object.keys), Set(Self.fields), "exactly the contract's fields")
        }
        let firstObject = try XCTUnwrap(json.standardOutput.split(separator: "\n").first { $0.contains("{") })
        XCTAssertEqual(Self.keysInOrder(String(firstObject)), Self.fields, "fields in the contract's order")
        let groups = objects.compactMap(StatsGroup.init(json:))
        XCTAssertEqual(groups.count, objects.count, "every value has its type: \(json.standardOutput)")

        let csv = try await stats(["--by", "model", "--format", "csv"], db: mix.databasePath)
        XCTAssertEqual(csv.exitCode, 0, csv.standardError)
        let lines = csv.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.first, Self.fields.joined(separator: ","), "csv header")
        XCTAssertEqual(lines.last, "", "csv ends with a newline")
        let csvGroups = lines.dropFirst().dropLast().map { StatsGroup(csv: $0) }
        XCTAssertEqual(csvGroups.count, groups.count, csv.standardOutput)
        for (fromCSV, fromJSON) in zip(csvGroups, groups) {
            XCTAssertEqual(fromCSV, fromJSON, "csv and json rows agree")
        }

        let table = try await stats(["--by", "model"], db: mix.databasePath)
        XCTAssertEqual(table.exitCode, 0, table.standardError)
        let tableLines = table.standardOutput.split(separator: "\n").map(String.init)
        XCTAssertTrue(tableLines.first?.hasPrefix("MODEL") ?? false, table.standardOutput)
        XCTAssertEqual(tableLines.count, 1 + groups.count + 2, "header, a line per group, a rule, totals:\n\(table.standardOutput)")
        XCTAssertTrue(tableLines.dropLast().last?.allSatisfy { $0 == "-" } ?? false, "a rule above the totals")
        let totals = tableLines.last?.split(separator: " ").map(String.init) ?? []
        // total, requests, hits, hit %, errors, 429, prompt, completion, saved, cost $, saved $, p50, p95
        XCTAssertEqual(Array(totals.prefix(11)), ["total", "14", "4", "28.6", "2", "2", "114", "36", "98", "0.0050", "0.0022"],
                       "the totals line:\n\(table.standardOutput)")
        let rows = try await UsageTable.rows(at: mix.databasePath)
        let all = ExpectedGroup(rows: rows, group: "total")
        XCTAssertEqual(totals.count, 13)
        XCTAssertEqual(totals.dropFirst(11).compactMap(Double.init),
                       [all.latencyP50Ms, all.latencyP95Ms].compactMap { $0.map { ($0).rounded() } },
                       "percentiles over every request, in whole ms")
    }

    func testSinceUntilKeyAndModelFilterTheRows() async throws {
        let mix = try await runKnownMix()
        try await insertArchivedRows(into: mix.databasePath)

        let firstDay = try await statsJSON(["--since", "2025-06-01", "--until", "2025-06-02"], db: mix.databasePath)
        XCTAssertEqual(firstDay.map(\.group), ["archive/model"])
        XCTAssertEqual(firstDay.first?.requests, 1)
        XCTAssertEqual(firstDay.first?.promptTokens, 100)
        XCTAssertEqual(firstDay.first?.cost ?? 0, 0.5, accuracy: 1e-9)
        XCTAssertEqual(firstDay.first?.latencyP50Ms, 900)

        let untilIsExclusive = try await statsJSON(["--until", "2025-06-02T12:00:00Z"], db: mix.databasePath)
        XCTAssertEqual(untilIsExclusive.map(\.requests), [1], "--until excludes a row at that very second")
        let sinceIsInclusive = try await statsJSON(["--since", "2025-06-02T12:00:00Z", "--until", "2025-06-03"], db: mix.databasePath)
        XCTAssertEqual(sinceIsInclusive.map(\.latencyP50Ms), [100], "--since includes a row at that very second")

        let lastHour = try await statsJSON(["--since", "1h"], db: mix.databasePath)
        XCTAssertTrue(ExpectedGroup.sum(lastHour).matches(Self.mixTotals), "--since 1h is the mix alone: \(lastHour)")
        let everything = try await statsJSON([], db: mix.databasePath)
        XCTAssertEqual(ExpectedGroup.sum(everything).requests, 16, "no --since: every row")

        let tight = try await statsJSON(["--key", "tight"], db: mix.databasePath)
        XCTAssertEqual(Set(tight.map(\.group)), ["openai/text-embedding-3-small", OpenAIRequests.model])
        XCTAssertEqual(ExpectedGroup.sum(tight).requests, 3)
        XCTAssertEqual(ExpectedGroup.sum(tight).rateLimited, 2)
        XCTAssertEqual(ExpectedGroup.sum(tight).promptTokens, KnownMix.laterUsage.promptTokens)

        let oneModel = try await statsJSON(["--model", OpenAIRequests.model, "--by", "key"], db: mix.databasePath)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: oneModel.map { ($0.group, $0.requests) }), ["main": 7, "tight": 2])
        let both = try await statsJSON(["--key", "main", "--model", "fail-500", "--by", "status"], db: mix.databasePath)
        XCTAssertEqual(both.map(\.group), ["500"])
        XCTAssertEqual(both.map(\.errors), [1])
        let unknown = try await statsJSON(["--key", "nobody"], db: mix.databasePath)
        XCTAssertTrue(unknown.isEmpty)
    }

    /// Large reports are scanned in parts, one per core, and merged by group: on the
    /// mix (plus two old rows), parts of a couple of rows give what one scan gives.
    func testAReportScannedInPartsEqualsOneScan() async throws {
        let mix = try await runKnownMix()
        try await insertArchivedRows(into: mix.databasePath)
        let database = try SluiceDatabase.openReadOnly(path: mix.databasePath)
        let whole = StatsReporter(database: database, minimumRowsPerPart: .max)
        let split = StatsReporter(database: database, minimumRowsPerPart: 2)
        let queries = StatsGrouping.allCases.flatMap { grouping in
            [StatsQuery(grouping: grouping), StatsQuery(since: mix.startedAt - 1, grouping: grouping),
             StatsQuery(since: 1_748_736_000, until: mix.startedAt - 1, grouping: grouping)]
        }
        for query in queries {
            let one = try whole.report(query)
            let parts = try split.report(query)
            XCTAssertEqual(parts.rows.map(\.requests).reduce(0, +), one.totals.requests, "\(query)")
            for format in StatsFormat.allCases {
                XCTAssertEqual(StatsFormatter.render(parts, as: format), StatsFormatter.render(one, as: format), "\(query), \(format)")
            }
        }
        XCTAssertEqual(try whole.report(StatsQuery()).totals.requests, 16)
    }

    func testAnEmptyRangeSaysSo() async throws {
        let daemon = try await startDaemon()
        let answer = try await http.post(chatPath, to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("one row"))
        XCTAssertEqual(answer.status, 200)
        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success)
        let range = ["--since", "2020-01-01", "--until", "2020-01-02"]

        let table = try await stats(range, db: daemon.databasePath)
        XCTAssertEqual(table.exitCode, 0, table.standardError)
        XCTAssertEqual(table.standardOutput, "no requests recorded in this range\n")
        let json = try await stats(range + ["--format", "json"], db: daemon.databasePath)
        XCTAssertEqual(json.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines), "[]")
        let csv = try await stats(range + ["--format", "csv"], db: daemon.databasePath)
        XCTAssertEqual(csv.standardOutput, Self.fields.joined(separator: ",") + "\n", "an empty csv is its header")

        let notEmpty = try await statsJSON([], db: daemon.databasePath)
        XCTAssertEqual(notEmpty.map(\.requests), [1], "the row is there outside the range")
    }

    func testAMissingOrBrokenDatabaseIsOneClearLineAndAFailure() async throws {
        let absent = directory.file("absent.db")
        let missing = try await stats([], db: absent)
        XCTAssertNotEqual(missing.exitCode, 0)
        XCTAssertEqual(missing.standardOutput, "")
        assertOneLine(missing.standardError, naming: absent)
        XCTAssertFalse(FileManager.default.fileExists(atPath: absent), "stats created the database it could not find")

        let garbage = directory.file("garbage.db")
        try Data(String(repeating: "not a database. ", count: 512).utf8).write(to: URL(fileURLWithPath: garbage))
        let broken = try await stats(["--format", "json"], db: garbage)
        XCTAssertNotEqual(broken.exitCode, 0)
        XCTAssertEqual(broken.standardOutput, "")
        assertOneLine(broken.standardError, naming: garbage)

        let badSince = try await stats(["--since", "yesterday"], db: absent)
        XCTAssertNotEqual(badSince.exitCode, 0)
        XCTAssertTrue(badSince.standardError.contains("yesterday"), badSince.standardError)
        XCTAssertFalse(badSince.standardError.contains("Fatal error"), badSince.standardError)
    }

    // MARK: Helpers

    private func stats(_ arguments: [String], db: String) async throws -> CommandResult {
        try await SluiceCommand.run(["stats", "--db", db] + arguments, in: directory)
    }

    /// `sluice stats --format json` (unless `arguments` name a format), parsed.
    private func statsJSON(_ arguments: [String], db: String, file: StaticString = #filePath, line: UInt = #line) async throws -> [StatsGroup] {
        let result = try await stats(arguments + ["--format", "json"], db: db)
        XCTAssertEqual(result.exitCode, 0, "stats \(arguments): \(result.standardError)", file: file, line: line)
        let objects = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]],
            "stats \(arguments) printed no json array: \(result.standardOutput)", file: file, line: line)
        return objects.compactMap(StatsGroup.init(json:))
    }

    private func assertOneLine(_ text: String, naming path: String, file: StaticString = #filePath, line: UInt = #line) {
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one line on stderr:\n\(text)", file: file, line: line)
        XCTAssertTrue(text.contains(path), "the error names the file:\n\(text)", file: file, line: line)
        XCTAssertFalse(text.contains("Fatal error") || text.contains("Stack dump"), text, file: file, line: line)
    }

    /// Two rows of an old key and model, at 2025-06-01T12:00Z and 2025-06-02T12:00Z.
    private func insertArchivedRows(into path: String) async throws {
        let first = 1_748_779_200.0  // 2025-06-01T12:00:00Z
        try await UsageTable.open(path).write { db in
            for (timestamp, latency) in [(first, 900.0), (first + 86_400, 100.0)] {
                try db.execute(sql: """
                    INSERT INTO usage (timestamp, key_id, model, route, streaming, status, cache_outcome,
                        prompt_tokens, completion_tokens, total_tokens, cost, latency_ms, request_bytes, response_bytes)
                    VALUES (?, 'archive', 'archive/model', '/v1/chat/completions', 0, 200, 'miss', 100, 50, 150, 0.5, ?, 10, 20)
                    """, arguments: [timestamp, latency])
            }
        }
    }

    /// The object keys of one line of json, in the order written.
    private static func keysInOrder(_ object: String) -> [String] {
        let pattern = try? NSRegularExpression(pattern: #""([a-z0-9_]+)":"#)
        let range = NSRange(object.startIndex..., in: object)
        return pattern?.matches(in: object, range: range).compactMap { match in
            Range(match.range(at: 1), in: object).map { String(object[$0]) }
        } ?? []
    }
}

/// One group of a stats report, as json or csv gives it.
struct StatsGroup: Equatable, CustomStringConvertible {
    var group: String
    var requests: Int
    var cacheHits: Int
    var hitRate: Double
    var errors: Int
    var rateLimited: Int
    var promptTokens: Int
    var completionTokens: Int
    var tokensSaved: Int
    var cost: Double
    var costSaved: Double
    var latencyP50Ms: Double
    var latencyP95Ms: Double

    init?(json: [String: Any]) {
        func int(_ name: String) -> Int? {
            switch json[name] {
            case let value as Int: value
            case let value as NSNumber where value.doubleValue == value.doubleValue.rounded(): value.intValue
            default: nil
            }
        }
        func double(_ name: String) -> Double? {
            switch json[name] {
            case let value as Double: value
            case let value as Int: Double(value)
            case let value as NSNumber: value.doubleValue
            default: nil
            }
        }
        guard let group = json["group"] as? String,
              let requests = int("requests"), let cacheHits = int("cache_hits"), let hitRate = double("hit_rate"),
              let errors = int("errors"), let rateLimited = int("rate_limited"),
              let promptTokens = int("prompt_tokens"), let completionTokens = int("completion_tokens"),
              let tokensSaved = int("tokens_saved"), let cost = double("cost"), let costSaved = double("cost_saved"),
              let p50 = double("latency_p50_ms"), let p95 = double("latency_p95_ms")
        else { return nil }
        self.init(group: group, requests: requests, cacheHits: cacheHits, hitRate: hitRate, errors: errors,
                  rateLimited: rateLimited, promptTokens: promptTokens, completionTokens: completionTokens,
                  tokensSaved: tokensSaved, cost: cost, costSaved: costSaved, latencyP50Ms: p50, latencyP95Ms: p95)
    }

    /// A csv line of the contract's columns (no quoted commas in the mix's groups).
    init?(csv line: String) {
        let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard cells.count == StatsCommandTests.fields.count else { return nil }
        var object: [String: Any] = ["group": cells[0]]
        for (name, cell) in zip(StatsCommandTests.fields.dropFirst(), cells.dropFirst()) {
            if let integer = Int(cell) {
                object[name] = integer
            } else if let number = Double(cell) {
                object[name] = number
            } else {
                return nil
            }
        }
        self.init(json: object)
    }

    init(group: String, requests: Int, cacheHits: Int, hitRate: Double, errors: Int, rateLimited: Int,
         promptTokens: Int, completionTokens: Int, tokensSaved: Int, cost: Double, costSaved: Double,
         latencyP50Ms: Double, latencyP95Ms: Double) {
        self.group = group
        self.requests = requests
        self.cacheHits = cacheHits
        self.hitRate = hitRate
        self.errors = errors
        self.rateLimited = rateLimited
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.tokensSaved = tokensSaved
        self.cost = cost
        self.costSaved = costSaved
        self.latencyP50Ms = latencyP50Ms
        self.latencyP95Ms = latencyP95Ms
    }

    var description: String {
        "\(group): \(requests) req, \(cacheHits) hits (\(hitRate)), \(errors) err, \(rateLimited) 429, "
            + "\(promptTokens)+\(completionTokens) tok, \(tokensSaved) saved, $\(cost) / $\(costSaved) saved, "
            + "p50 \(latencyP50Ms) p95 \(latencyP95Ms)"
    }

    /// True when every figure equals `expected`'s as the report rounds it
    /// (hit rate to 4 places, cost to 6, latency to 3); nil latencies are not compared.
    func matches(_ expected: ExpectedGroup) -> Bool {
        func close(_ a: Double, _ b: Double, _ places: Double) -> Bool { abs(a - b) <= 0.5 * pow(10, -places) + 1e-12 }
        return group == expected.group && requests == expected.requests && cacheHits == expected.cacheHits
            && close(hitRate, expected.hitRate, 4) && errors == expected.errors && rateLimited == expected.rateLimited
            && promptTokens == expected.promptTokens && completionTokens == expected.completionTokens
            && tokensSaved == expected.tokensSaved && close(cost, expected.cost, 6) && close(costSaved, expected.costSaved, 6)
            && expected.latencyP50Ms.map { close(latencyP50Ms, $0, 3) } ?? true
            && expected.latencyP95Ms.map { close(latencyP95Ms, $0, 3) } ?? true
    }
}

/// What a stats group must say, computed here from the rows themselves.
struct ExpectedGroup: Equatable, CustomStringConvertible {
    var group: String
    var requests: Int
    var cacheHits: Int
    var hitRate: Double
    var errors: Int
    var rateLimited: Int
    var promptTokens: Int
    var completionTokens: Int
    var tokensSaved: Int
    var cost: Double
    var costSaved: Double
    var latencyP50Ms: Double?
    var latencyP95Ms: Double?

    init(group: String, requests: Int, cacheHits: Int, hitRate: Double, errors: Int, rateLimited: Int,
         promptTokens: Int, completionTokens: Int, tokensSaved: Int, cost: Double, costSaved: Double,
         latencyP50Ms: Double?, latencyP95Ms: Double?) {
        self.group = group
        self.requests = requests
        self.cacheHits = cacheHits
        self.hitRate = hitRate
        self.errors = errors
        self.rateLimited = rateLimited
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.tokensSaved = tokensSaved
        self.cost = cost
        self.costSaved = costSaved
        self.latencyP50Ms = latencyP50Ms
        self.latencyP95Ms = latencyP95Ms
    }

    /// Hits are `hit` and `coalesced`; errors are >= 400 but 429; percentiles are nearest-rank.
    init(rows: [StoredUsageRow], group: String) {
        let latencies = rows.map(\.latencyMs).sorted()
        func percentile(_ p: Double) -> Double? {
            latencies.isEmpty ? nil : latencies[max(Int((Double(latencies.count) * p / 100).rounded(.up)), 1) - 1]
        }
        let hits = rows.filter { ["hit", "coalesced"].contains($0.cacheOutcome) }.count
        self.init(
            group: group, requests: rows.count, cacheHits: hits,
            hitRate: rows.isEmpty ? 0 : Double(hits) / Double(rows.count),
            errors: rows.filter { $0.status >= 400 && $0.status != 429 }.count,
            rateLimited: rows.filter { $0.status == 429 }.count,
            promptTokens: rows.compactMap(\.spent?.prompt).reduce(0, +),
            completionTokens: rows.compactMap(\.spent?.completion).reduce(0, +),
            tokensSaved: rows.compactMap(\.saved?.total).reduce(0, +),
            cost: rows.compactMap(\.spent?.cost).reduce(0, +),
            costSaved: rows.compactMap(\.saved?.cost).reduce(0, +),
            latencyP50Ms: percentile(50), latencyP95Ms: percentile(95))
    }

    /// The totals of reported groups (percentiles cannot be added up: left out).
    static func sum(_ groups: [StatsGroup]) -> ExpectedGroup {
        let requests = groups.map(\.requests).reduce(0, +)
        let hits = groups.map(\.cacheHits).reduce(0, +)
        return ExpectedGroup(
            group: "total", requests: requests, cacheHits: hits,
            hitRate: requests == 0 ? 0 : Double(hits) / Double(requests),
            errors: groups.map(\.errors).reduce(0, +), rateLimited: groups.map(\.rateLimited).reduce(0, +),
            promptTokens: groups.map(\.promptTokens).reduce(0, +), completionTokens: groups.map(\.completionTokens).reduce(0, +),
            tokensSaved: groups.map(\.tokensSaved).reduce(0, +),
            cost: groups.map(\.cost).reduce(0, +), costSaved: groups.map(\.costSaved).reduce(0, +),
            latencyP50Ms: nil, latencyP95Ms: nil)
    }

    var withoutLatencies: ExpectedGroup {
        var copy = self
        copy.latencyP50Ms = nil
        copy.latencyP95Ms = nil
        return copy
    }

    /// Equal figures, costs and rates within rounding noise (sums of doubles).
    func matches(_ other: ExpectedGroup) -> Bool {
        var left = withoutLatencies
        var right = other.withoutLatencies
        guard abs(left.cost - right.cost) < 1e-9, abs(left.costSaved - right.costSaved) < 1e-9,
              abs(left.hitRate - right.hitRate) < 1e-3 else { return false }
        (left.cost, left.costSaved, left.hitRate) = (0, 0, 0)
        (right.cost, right.costSaved, right.hitRate) = (0, 0, 0)
        return left == right
    }

    var description: String {
        "\(group): \(requests) req, \(cacheHits) hits (\(hitRate)), \(errors) err, \(rateLimited) 429, "
            + "\(promptTokens)+\(completionTokens) tok, \(tokensSaved) saved, $\(cost) / $\(costSaved) saved, "
            + "p50 \(latencyP50Ms.map { "\($0)" } ?? "-") p95 \(latencyP95Ms.map { "\($0)" } ?? "-")"
    }
}
