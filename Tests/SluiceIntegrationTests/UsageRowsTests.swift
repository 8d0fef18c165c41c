import Foundation
import GRDB
import XCTest

/// One usage row per request, written by the real daemon (CONTRACT, "Usage rows and stats").
final class UsageRowsTests: DaemonTestCase {
    func testAKnownMixGivesExactlyOneRightRowPerRequest() async throws {
        let mix = try await runKnownMix()
        let rows = try await UsageTable.rows(at: mix.databasePath)

        XCTAssertEqual(rows.count, mix.requests.count, "one row per request: \(rows.map(\.summary))")
        guard rows.count == mix.requests.count else { return }
        for (row, request) in zip(rows, mix.requests.matching(rows)) {
            assertRow(row, records: request)
        }
    }

    func testNoClientSecretReachesTheDatabase() async throws {
        let mix = try await runKnownMix()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix(URL(fileURLWithPath: mix.databasePath).lastPathComponent) }
        XCTAssertFalse(files.isEmpty)
        for file in files {
            let bytes = try Data(contentsOf: directory.url.appendingPathComponent(file))
            for secret in KnownMix.secrets {
                XCTAssertNil(bytes.range(of: Data(secret.utf8)), "\(file) holds a client key in clear")
            }
        }
        let keyIDs = Set(try await UsageTable.rows(at: mix.databasePath).map(\.keyID))
        XCTAssertEqual(keyIDs, ["main", "tight"], "rows name keys by their configured names")
    }

    func testRowsReachTheDatabaseWhileTheDaemonRuns() async throws {
        let daemon = try await startDaemon()
        let answer = try await http.post(chatPath, to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("flushed soon"))
        XCTAssertEqual(answer.status, 200)

        var rows: [StoredUsageRow] = []
        let written = try await eventually(within: .seconds(5)) {
            rows = (try? UsageTable.rowsNow(at: daemon.databasePath)) ?? []
            return rows.count == 1
        }
        XCTAssertTrue(written, "the flusher did not write the row within 5 s of the answer (rows: \(rows.count))")
        XCTAssertTrue(daemon.isRunning)
        XCTAssertEqual(rows.first?.status, 200)
        XCTAssertEqual(rows.first?.cacheOutcome, "miss")
        XCTAssertEqual(rows.first?.spent, .chat)
    }

    /// Checks every column of `row` against what `request` sent, got and should have spent or saved.
    private func assertRow(_ row: StoredUsageRow, records request: MixRequest, file: StaticString = #filePath, line: UInt = #line) {
        let context = "\(request.label): \(row.summary)"
        XCTAssertEqual(row.keyID, request.keyID, context, file: file, line: line)
        XCTAssertEqual(row.model, request.model, context, file: file, line: line)
        XCTAssertEqual(row.route, request.route, context, file: file, line: line)
        XCTAssertEqual(row.streaming, request.streaming, context, file: file, line: line)
        XCTAssertEqual(row.status, request.status, context, file: file, line: line)
        XCTAssertEqual(row.status, request.answeredStatus, "\(context): the row's status is the one the client got", file: file, line: line)
        XCTAssertEqual(row.cacheOutcome, request.outcome, context, file: file, line: line)
        XCTAssertEqual(row.spent, request.spent, "\(context): tokens spent", file: file, line: line)
        XCTAssertEqual(row.saved, request.saved, "\(context): tokens saved", file: file, line: line)
        XCTAssertEqual(row.errorCode, request.errorCode, context, file: file, line: line)
        XCTAssertEqual(row.requestBytes, request.requestBytes, "\(context): request bytes", file: file, line: line)
        XCTAssertEqual(row.responseBytes, request.responseBytes, "\(context): response body bytes", file: file, line: line)

        XCTAssertTrue(request.sentAt <= row.timestamp && row.timestamp <= request.answeredAt,
                      "\(context): arrival time \(row.timestamp) not within \(request.sentAt)...\(request.answeredAt)", file: file, line: line)
        let wallMs = (request.answeredAt - request.sentAt) * 1000
        XCTAssertGreaterThan(row.latencyMs, 0, context, file: file, line: line)
        // The row's clock stops when the daemon records it, just after the answer is
        // handed to the socket: on a loaded machine the client may read it a little earlier.
        XCTAssertLessThanOrEqual(row.latencyMs, wallMs + 5, "\(context): latency longer than the client waited", file: file, line: line)
        if let firstByte = row.firstByteLatencyMs {
            XCTAssertGreaterThan(firstByte, 0, context, file: file, line: line)
            XCTAssertLessThanOrEqual(firstByte, row.latencyMs, context, file: file, line: line)
        } else {
            XCTFail("\(context): no first-byte latency on an answered request", file: file, line: line)
        }
        if request.callsUpstream {
            XCTAssertGreaterThan(row.upstreamLatencyMs ?? 0, 0, "\(context): upstream latency", file: file, line: line)
            XCTAssertLessThanOrEqual(row.upstreamLatencyMs ?? 0, row.latencyMs, context, file: file, line: line)
        } else {
            XCTAssertNil(row.upstreamLatencyMs, "\(context): no upstream call was made", file: file, line: line)
        }
    }
}

// MARK: - The known mix, shared with StatsCommandTests

/// Tokens and cost as a usage row holds them.
struct RowTokens: Equatable, CustomStringConvertible {
    var prompt: Int
    var completion: Int
    var total: Int
    var cost: Double

    /// What the fake gateway reports for a chat answer.
    static let chat = RowTokens(
        prompt: FakeUsage.standard.promptTokens, completion: FakeUsage.standard.completionTokens,
        total: FakeUsage.standard.totalTokens, cost: FakeUsage.standard.cost)
    /// What it reports for a chat answer once the mix has switched to `KnownMix.laterUsage`.
    static let laterChat = RowTokens(
        prompt: KnownMix.laterUsage.promptTokens, completion: KnownMix.laterUsage.completionTokens,
        total: KnownMix.laterUsage.totalTokens, cost: KnownMix.laterUsage.cost)
    /// And for embeddings then: no completion tokens.
    static let laterEmbeddings = RowTokens(
        prompt: KnownMix.laterUsage.promptTokens, completion: 0, total: KnownMix.laterUsage.promptTokens, cost: KnownMix.laterUsage.cost)

    var description: String { "\(prompt)+\(completion)=\(total) $\(cost)" }
}

/// One request of the known mix: what was sent and received, and the row it must leave.
struct MixRequest {
    var label: String
    var keyID: String
    var model: String?
    var route = chatPath
    var streaming = false
    var status = 200
    var outcome: String
    var spent: RowTokens?
    var saved: RowTokens?
    var errorCode: String?
    var callsUpstream: Bool
    var requestBytes = 0
    // Filled in from the answer:
    var answeredStatus = 0
    var responseBytes = 0
    var sentAt = 0.0
    var answeredAt = 0.0
}

/// The requests of the known mix, in the order they were sent, and the database they left.
struct KnownMix {
    static let mainKey = "sk-usage-main-5f0c2a9e71"
    static let tightKey = "sk-usage-tight-8b13d4e60c"
    static var secrets: [String] { [mainKey, tightKey] }
    /// What the fake gateway reports after the hits, so that a hit's savings are
    /// told apart from what a fresh answer would have cost.
    static let laterUsage = FakeUsage(promptTokens: 30, completionTokens: 11, cachedTokens: 0, cost: 0.0015)

    /// `main` is unlimited; `tight` gets one request, then 429s.
    static let config = """
        keys:
          - {name: main, key: \(mainKey)}
          - {name: tight, key: \(tightKey)}
        limits:
          keys:
            tight: {requests_per_minute: 1, burst: 1}
        """

    var requests: [MixRequest]
    var databasePath: String
    /// When the first request was sent and the last answer arrived (unix seconds).
    var startedAt: Double
    var finishedAt: Double
}

extension Array where Element == MixRequest {
    /// The requests in the order of `rows` (by arrival time): as sent, except that the
    /// two simultaneous requests at the end pair up with their rows by cache outcome.
    func matching(_ rows: [StoredUsageRow]) -> [MixRequest] {
        var ordered = self
        let tail = ordered.count - 2
        if tail >= 0, rows.count == ordered.count, rows[tail].cacheOutcome != ordered[tail].outcome {
            ordered.swapAt(tail, tail + 1)
        }
        return ordered
    }
}

extension DaemonTestCase {
    /// Starts the daemon with `KnownMix.config`, sends the mix, stops it with SIGTERM
    /// (asserting a clean exit) and returns what was sent.
    ///
    /// The mix: 2 misses, 3 hits, a stream with `include_usage` and one without, an
    /// upstream 500, a bad JSON 400, an embeddings request, 2 rate-limited 429s, and
    /// two identical slow requests at once (one miss, one coalesced). Upstream reports
    /// `FakeUsage.standard` up to the hits and `KnownMix.laterUsage` after them.
    func runKnownMix(file: StaticString = #filePath, line: UInt = #line) async throws -> KnownMix {
        let daemon = try await startDaemon(launch(config: try writeConfig(KnownMix.config)))
        let endpoint = try daemon.endpoint(.tcp)
        let main = bearer(KnownMix.mainKey)
        let tight = bearer(KnownMix.tightKey)
        let model = OpenAIRequests.model
        let embeddingModel = "openai/text-embedding-3-small"
        var sent: [MixRequest] = []
        let startedAt = Date().timeIntervalSince1970

        func post(_ request: MixRequest, path: String = chatPath, headers: [(String, String)], body: Data, expecting cache: String?) async throws {
            var request = request
            request.requestBytes = body.count
            request.sentAt = Date().timeIntervalSince1970
            let answer = try await http.post(path, to: endpoint, headers: headers, body: body)
            request.answeredAt = Date().timeIntervalSince1970
            request.answeredStatus = answer.status
            request.responseBytes = answer.body.count
            XCTAssertEqual(answer.header("x-sluice-cache"), cache, "\(request.label): \(answer.text)", file: file, line: line)
            sent.append(request)
        }

        func stream(_ request: MixRequest, headers: [(String, String)], body: Data) async throws {
            var request = request
            request.requestBytes = body.count
            request.sentAt = Date().timeIntervalSince1970
            let answer = try await http.stream(chatPath, to: endpoint, headers: headers, body: body)
            request.answeredAt = Date().timeIntervalSince1970
            request.answeredStatus = answer.status
            request.responseBytes = answer.body.count
            XCTAssertEqual(answer.events.last, "[DONE]", "\(request.label) was not streamed to the end", file: file, line: line)
            sent.append(request)
        }

        let miss = MixRequest(label: "", keyID: "main", model: model, outcome: "miss", spent: .chat, callsUpstream: true)
        let hit = MixRequest(label: "", keyID: "main", model: model, outcome: "hit", saved: .chat, callsUpstream: false)
        func labelled(_ request: MixRequest, _ label: String) -> MixRequest {
            var request = request
            request.label = label
            return request
        }

        try await post(labelled(miss, "miss alpha"), headers: main, body: OpenAIRequests.chat("alpha"), expecting: "miss")
        try await post(labelled(miss, "miss beta"), headers: main, body: OpenAIRequests.chat("beta"), expecting: "miss")
        try await post(labelled(hit, "hit alpha"), headers: main, body: OpenAIRequests.chat("alpha"), expecting: "hit")
        try await post(labelled(hit, "hit beta"), headers: main, body: OpenAIRequests.chat("beta"), expecting: "hit")
        try await post(labelled(hit, "hit alpha again"), headers: main, body: OpenAIRequests.chat("alpha"), expecting: "hit")
        gateway.behavior.usage = KnownMix.laterUsage

        var streamed = MixRequest(label: "stream with usage", keyID: "main", model: model, streaming: true,
                                  outcome: "miss", spent: .laterChat, callsUpstream: true)
        try await stream(streamed, headers: main, body: OpenAIRequests.chat("stream one", stream: true, includeUsage: true))
        streamed.label = "stream without usage"
        streamed.spent = nil
        try await stream(streamed, headers: main, body: OpenAIRequests.chat("stream two", stream: true, includeUsage: false))

        try await post(MixRequest(label: "upstream 500", keyID: "main", model: "fail-500", status: 500, outcome: "miss",
                                  errorCode: "internal_error", callsUpstream: true),
                       headers: main, body: OpenAIRequests.chat("boom", model: "fail-500"), expecting: "miss")
        try await post(MixRequest(label: "bad JSON", keyID: "main", model: nil, status: 400, outcome: "none",
                                  errorCode: "invalid_json", callsUpstream: false),
                       headers: main, body: Data(#"{"model": "openai/gpt-4o-mini", "messages": ["#.utf8), expecting: nil)

        try await post(MixRequest(label: "embeddings", keyID: "tight", model: embeddingModel, route: "/v1/embeddings",
                                  outcome: "miss", spent: .laterEmbeddings, callsUpstream: true),
                       path: "/v1/embeddings", headers: tight, body: OpenAIRequests.embeddings(["one", "two"], model: embeddingModel),
                       expecting: "miss")
        let refused = MixRequest(label: "", keyID: "tight", model: model, status: 429, outcome: "none",
                                 errorCode: "rate_limit_exceeded", callsUpstream: false)
        try await post(labelled(refused, "429 one"), headers: tight, body: OpenAIRequests.chat("limited one"), expecting: nil)
        try await post(labelled(refused, "429 two"), headers: tight, body: OpenAIRequests.chat("limited two"), expecting: nil)

        // Two identical slow requests at once: the second waits for the first's upstream call.
        let slowModel = "slow-400ms"
        let slowBody = OpenAIRequests.chat("gamma", model: slowModel)
        let client = try XCTUnwrap(http)
        let pair = try await withThrowingTaskGroup(of: (Double, HTTPResult, Double).self) { group in
            for _ in 0..<2 {
                group.addTask {
                    let sentAt = Date().timeIntervalSince1970
                    let answer = try await client.post(chatPath, to: endpoint, headers: main, body: slowBody)
                    return (sentAt, answer, Date().timeIntervalSince1970)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(Set(pair.compactMap { $0.1.header("x-sluice-cache") }), ["miss", "coalesced"], file: file, line: line)
        XCTAssertEqual(gateway.recorder.requests.filter { $0.jsonBody?["model"] as? String == slowModel }.count, 1,
                       "the identical requests made one upstream call", file: file, line: line)
        for (sentAt, answer, answeredAt) in pair {
            let isLeader = answer.header("x-sluice-cache") == "miss"
            sent.append(MixRequest(
                label: isLeader ? "slow leader" : "slow coalesced", keyID: "main", model: slowModel,
                outcome: isLeader ? "miss" : "coalesced", spent: isLeader ? .laterChat : nil, saved: isLeader ? nil : .laterChat,
                callsUpstream: isLeader, requestBytes: slowBody.count, answeredStatus: answer.status,
                responseBytes: answer.body.count, sentAt: sentAt, answeredAt: answeredAt))
        }
        let finishedAt = Date().timeIntervalSince1970

        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success, "SIGTERM after the mix", file: file, line: line)
        return KnownMix(requests: sent, databasePath: daemon.databasePath, startedAt: startedAt, finishedAt: finishedAt)
    }
}

// MARK: - Reading the usage table

/// One row of the usage table, read back by a test.
struct StoredUsageRow {
    var id: Int64
    var timestamp: Double
    var keyID: String
    var model: String?
    var route: String
    var streaming: Bool
    var status: Int
    var cacheOutcome: String
    var spent: RowTokens?
    var saved: RowTokens?
    /// Prompt tokens the provider read from its prompt cache.
    var cachedTokens: Int?
    var firstByteLatencyMs: Double?
    var latencyMs: Double
    var upstreamLatencyMs: Double?
    var requestBytes: Int
    var responseBytes: Int
    var errorCode: String?

    init(_ row: Row) {
        id = row["id"]
        timestamp = row["timestamp"]
        keyID = row["key_id"]
        model = row["model"]
        route = row["route"]
        streaming = row["streaming"]
        status = row["status"]
        cacheOutcome = row["cache_outcome"]
        spent = Self.tokens(row, prefix: "")
        saved = Self.tokens(row, prefix: "saved_")
        cachedTokens = row["cached_tokens"]
        firstByteLatencyMs = row["first_byte_latency_ms"]
        latencyMs = row["latency_ms"]
        upstreamLatencyMs = row["upstream_latency_ms"]
        requestBytes = row["request_bytes"]
        responseBytes = row["response_bytes"]
        errorCode = row["error_code"]
    }

    /// The four token and cost columns, or nil when all are NULL; a NULL among
    /// non-NULL ones reads as -1 so that a partly written row never passes for a whole one.
    private static func tokens(_ row: Row, prefix: String) -> RowTokens? {
        let prompt: Int? = row[prefix + "prompt_tokens"]
        let completion: Int? = row[prefix + "completion_tokens"]
        let total: Int? = row[prefix + "total_tokens"]
        let cost: Double? = row[prefix + "cost"]
        if prompt == nil, completion == nil, total == nil, cost == nil { return nil }
        return RowTokens(prompt: prompt ?? -1, completion: completion ?? -1, total: total ?? -1, cost: cost ?? -1)
    }

    var summary: String {
        "#\(id) \(keyID) \(model ?? "NULL") \(route) \(status) \(cacheOutcome)\(streaming ? " stream" : "")"
            + " spent \(spent?.description ?? "-") saved \(saved?.description ?? "-") error \(errorCode ?? "-")"
    }
}

enum UsageTable {
    /// Every usage row of the database at `path`, oldest arrival first.
    static func rows(at path: String) async throws -> [StoredUsageRow] {
        try await open(path).read { db in try fetchAll(db) }
    }

    /// The same, from synchronous code (e.g. a polling condition).
    static func rowsNow(at path: String) throws -> [StoredUsageRow] {
        try open(path).read { db in try fetchAll(db) }
    }

    /// A connection of its own; fine beside a running daemon (WAL).
    static func open(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    private static func fetchAll(_ db: Database) throws -> [StoredUsageRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM usage ORDER BY timestamp, id").map(StoredUsageRow.init)
    }
}
