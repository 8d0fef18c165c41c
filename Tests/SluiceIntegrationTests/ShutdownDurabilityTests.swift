import Foundation
import GRDB
import XCTest

/// Usage rows through stops and restarts (CONTRACT, "Usage rows and stats": nothing is
/// lost on a clean stop), a database left by `kill -9`, and pruning past `usage.retention`.
final class ShutdownDurabilityTests: DaemonTestCase {
    /// Limits the load never reaches: every request goes upstream and spends tokens.
    static let roomyLimits = "limits: {default: {requests_per_minute: 100000, burst: 10000, tokens_per_minute: 100000000}}\n"

    /// Every request the client got a whole answer to has exactly one row, with the
    /// status the client saw. A row whose client got no whole answer is allowed only
    /// for a request the daemon took in but could not finish sending (counted as
    /// `unreadAnswers`); no row belongs to a request never sent, none is doubled.
    func testSIGTERMUnderConcurrentLoadKeepsARowForEveryAnsweredRequest() async throws {
        let daemon = try await startDaemon(launch(config: try writeConfig(Self.roomyLimits)))
        gateway.behavior.fault = .slow(.milliseconds(20))
        let load = ConcurrentLoad(endpoint: try daemon.endpoint(.tcp))

        let outcomes = await load.run(using: http, whenAnswered: 100) { daemon.send(signal: SIGTERM) }
        let exit = try await daemon.waitForExit(timeout: .seconds(20))
        XCTAssertEqual(exit, .success, "SIGTERM under load")

        let answered = outcomes.filter { $0.value != .failed }
        let failed = outcomes.count - answered.count
        XCTAssertGreaterThanOrEqual(answered.count, 100)
        XCTAssertGreaterThan(failed, 0, "the stop came mid-way: some requests found the daemon gone")

        let rows = try await UsageTable.rows(at: daemon.databasePath)
        let rowsByIndex = Dictionary(grouping: rows) { ConcurrentLoad.index(ofModel: $0.model) ?? -1 }
        XCTAssertNil(rowsByIndex[-1], "rows of requests never sent: \(rowsByIndex[-1]?.map(\.summary) ?? [])")
        XCTAssertTrue(rowsByIndex.values.allSatisfy { $0.count == 1 }, "one row per request")
        for (index, outcome) in answered.sorted(by: { $0.key < $1.key }) {
            guard let row = rowsByIndex[index]?.first else {
                XCTFail("request \(index) was answered (\(outcome)) but has no usage row")
                continue
            }
            XCTAssertEqual(outcome, .answered(status: row.status), "request \(index): \(row.summary)")
            XCTAssertEqual(row.streaming, ConcurrentLoad.isStreamed(index), row.summary)
            XCTAssertEqual(row.spent, .chat, "request \(index): tokens as upstream reported them")
        }
        let unreadAnswers = rows.count - answered.count
        XCTAssertTrue((0...failed).contains(unreadAnswers),
                      "\(rows.count) rows for \(answered.count) answered and \(failed) failed requests")
    }

    func testADatabaseLeftByKill9OpensIntactAndRecordsAgain() async throws {
        let first = try await startDaemon(launch(config: try writeConfig(Self.roomyLimits)))
        gateway.behavior.fault = .slow(.milliseconds(20))
        let load = ConcurrentLoad(endpoint: try first.endpoint(.tcp))
        let outcomes = await load.run(using: http, whenAnswered: 150) { first.send(signal: SIGKILL) }
        let killed = try await first.waitForExit()
        XCTAssertEqual(killed, DaemonExit(cause: .signalled, code: SIGKILL))
        XCTAssertGreaterThanOrEqual(outcomes.values.filter { $0 != .failed }.count, 150)
        gateway.behavior.fault = nil

        let second = try await startDaemon(launch(config: try writeConfig(Self.roomyLimits)))
        XCTAssertEqual(second.databasePath, first.databasePath, "the restart opens the same file")
        let afterKill = try await integrityCheck(second.databasePath)
        XCTAssertEqual(afterKill, ["ok"], "after kill -9")
        let survivors = try await UsageTable.rows(at: second.databasePath)
        XCTAssertFalse(survivors.isEmpty, "the flusher wrote batches during the load; they survive the kill")
        XCTAssertTrue(survivors.allSatisfy { ConcurrentLoad.index(ofModel: $0.model) != nil }, "only whole rows of sent requests")
        XCTAssertEqual(Set(survivors.map(\.model)).count, survivors.count, "no row twice")

        let answer = try await http.post(chatPath, to: second.endpoint(.tcp), body: OpenAIRequests.chat("after the crash", model: "after/restart"))
        XCTAssertEqual(answer.status, 200, answer.text)
        let again = try await http.post(chatPath, to: second.endpoint(.tcp), body: OpenAIRequests.chat("after the crash", model: "after/restart"))
        XCTAssertEqual(again.header("x-sluice-cache"), "hit", "the cache works on the recovered file")
        second.send(signal: SIGTERM)
        let stopped = try await second.waitForExit()
        XCTAssertEqual(stopped, .success)

        let rows = try await UsageTable.rows(at: second.databasePath)
        XCTAssertEqual(rows.count, survivors.count + 2, "the restarted daemon records again")
        XCTAssertEqual(rows.suffix(2).map(\.model), ["after/restart", "after/restart"])
        XCTAssertEqual(rows.suffix(2).map(\.cacheOutcome), ["miss", "hit"])
        let afterRestart = try await integrityCheck(second.databasePath)
        XCTAssertEqual(afterRestart, ["ok"], "after the restart")
    }

    func testRowsPastRetentionArePrunedAtStart() async throws {
        let path = try await databaseWithRowsAged([30 * 86_400, 3 * 86_400, 25 * 3_600, 2 * 3_600, 60])
        let daemon = try await startDaemon(launch(config: try writeConfig("usage: {retention: 1d}\n")))
        XCTAssertEqual(daemon.databasePath, path)

        var ages: [String] = []
        let pruned = try await eventually(within: .seconds(5)) {
            ages = ((try? UsageTable.rowsNow(at: path)) ?? []).compactMap(\.model)
            return ages.count == 2
        }
        XCTAssertTrue(pruned, "rows past a 1d retention still there 5 s after start: \(ages)")
        XCTAssertEqual(ages, ["age/7200s", "age/60s"], "only rows younger than a day stay")
        XCTAssertTrue(gateway.recorder.requests.isEmpty, "pruned at start, without any request")
        XCTAssertTrue(daemon.isRunning)
    }

    func testTheDefaultRetentionKeepsNinetyDays() async throws {
        let path = try await databaseWithRowsAged([100 * 86_400, 89 * 86_400, 60])
        let daemon = try await startDaemon()
        XCTAssertEqual(daemon.databasePath, path)

        var ages: [String] = []
        let pruned = try await eventually(within: .seconds(5)) {
            ages = ((try? UsageTable.rowsNow(at: path)) ?? []).compactMap(\.model)
            return ages.count == 2
        }
        XCTAssertTrue(pruned, "a 100-day-old row survived the default retention: \(ages)")
        XCTAssertEqual(ages, ["age/\(89 * 86_400)s", "age/60s"])
    }

    // MARK: Helpers

    /// A migrated database at the harness's default path, with one row per age
    /// (seconds before now), each with the model `age/<seconds>s`.
    private func databaseWithRowsAged(_ ages: [Int]) async throws -> String {
        let path = directory.file("sluice.db")
        let migrate = try await SluiceCommand.run(["migrate", "--db", path], in: directory)
        XCTAssertEqual(migrate.exitCode, 0, migrate.standardError)
        let now = Date().timeIntervalSince1970
        try await UsageTable.open(path).write { db in
            for age in ages {
                try db.execute(sql: """
                    INSERT INTO usage (timestamp, key_id, model, route, streaming, status, cache_outcome,
                        latency_ms, request_bytes, response_bytes)
                    VALUES (?, 'old', ?, '/v1/chat/completions', 0, 200, 'miss', 5, 10, 20)
                    """, arguments: [now - Double(age), "age/\(age)s"])
            }
        }
        return path
    }

    private func integrityCheck(_ path: String) async throws -> [String] {
        try await UsageTable.open(path).read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }
}

/// Chat requests from concurrent clients, each request with its own model name
/// (`load/m-<index>`) so that its usage row can be found; every fifth is streamed.
struct ConcurrentLoad: Sendable {
    enum Outcome: Sendable, Equatable {
        /// A whole answer arrived.
        case answered(status: Int)
        /// No answer, or not all of it (refused, reset, cut short).
        case failed
    }

    let endpoint: HTTPEndpoint
    var total = 200
    var clients = 8

    static func model(_ index: Int) -> String { "load/m-\(index)" }

    static func index(ofModel model: String?) -> Int? {
        guard let model, model.hasPrefix("load/m-") else { return nil }
        return Int(model.dropFirst("load/m-".count))
    }

    static func isStreamed(_ index: Int) -> Bool { index % 5 == 4 }

    /// Sends every request, each client one at a time, and calls `action` once when
    /// `threshold` answers have arrived; returns each request's outcome by index.
    func run(
        using http: TestHTTPClient, whenAnswered threshold: Int, _ action: @escaping @Sendable () -> Void
    ) async -> [Int: Outcome] {
        let answeredCount = LockedBox(0)
        return await withTaskGroup(of: [(Int, Outcome)].self) { group in
            for client in 0..<clients {
                group.addTask {
                    var outcomes: [(Int, Outcome)] = []
                    for index in stride(from: client, to: total, by: clients) {
                        let outcome = await send(index, using: http)
                        if outcome != .failed, answeredCount.withLock({ $0 += 1; return $0 }) == threshold {
                            action()
                        }
                        outcomes.append((index, outcome))
                    }
                    return outcomes
                }
            }
            var all: [Int: Outcome] = [:]
            for await part in group {
                for (index, outcome) in part { all[index] = outcome }
            }
            return all
        }
    }

    private func send(_ index: Int, using http: TestHTTPClient) async -> Outcome {
        let streamed = Self.isStreamed(index)
        let body = OpenAIRequests.chat("load \(index)", model: Self.model(index), stream: streamed)
        do {
            if streamed {
                let answer = try await http.stream(chatPath, to: endpoint, body: body)
                return answer.events.last == "[DONE]" ? .answered(status: answer.status) : .failed
            }
            return .answered(status: try await http.post(chatPath, to: endpoint, body: body).status)
        } catch {
            return .failed
        }
    }
}
