import Foundation
import XCTest

/// Answers are not held whole where they need not be: routes that are not
/// cached are relayed as they arrive, a cacheable answer above 8 MiB is relayed
/// and not stored, and usage is still read from both.
final class LargeAnswerTests: DaemonTestCase {
    /// A 9 MiB prompt is estimated at over two million tokens: room for it.
    private func startRoomyDaemon() async throws -> DaemonProcess {
        try await startDaemon(launch(config: try writeConfig(
            "limits: {default: {requests_per_minute: 6000, burst: 100, tokens_per_minute: 100000000}}\n")))
    }

    /// The fake gateway echoes the last message, so this makes an answer of about `bytes`.
    private func chat(echoing bytes: Int, tag: String) -> Data {
        OpenAIRequests.chat(tag + String(repeating: "x", count: bytes), model: "large/\(tag)")
    }

    func testACacheableAnswerOverTheStoreLimitIsRelayedWholeAndNotStored() async throws {
        let daemon = try await startRoomyDaemon()
        let endpoint = try daemon.endpoint(.tcp)
        let body = chat(echoing: 9 << 20, tag: "big")

        let first = try await http.post(chatPath, to: endpoint, body: body)
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.header("x-sluice-cache"), "miss")
        XCTAssertGreaterThan(first.body.count, 9 << 20, "the whole answer arrives")
        let content = ((first.json?["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
        XCTAssertEqual(content?.count, "echo: big".count + (9 << 20), "intact, not truncated")

        let second = try await http.post(chatPath, to: endpoint, body: body)
        XCTAssertEqual(second.status, 200)
        XCTAssertEqual(second.header("x-sluice-cache"), "miss", "too large to store: asked upstream again")
        XCTAssertEqual(gateway.recorder.requests.filter { $0.path == chatPath }.count, 2)

        let rows = try await rows(daemon, count: 2)
        XCTAssertEqual(rows.map(\.status), [200, 200])
        XCTAssertEqual(rows.map(\.spent), [.chat, .chat], "usage read from the relayed answer's bytes")
    }

    func testAnAnswerJustUnderTheLimitIsStored() async throws {
        let daemon = try await startRoomyDaemon()
        let endpoint = try daemon.endpoint(.unixSocket)
        let body = chat(echoing: 7 << 20, tag: "fits")
        let first = try await http.post(chatPath, to: endpoint, body: body)
        XCTAssertEqual(first.header("x-sluice-cache"), "miss")
        let second = try await http.post(chatPath, to: endpoint, body: body)
        XCTAssertEqual(second.header("x-sluice-cache"), "hit")
        XCTAssertEqual(second.body, first.body)
    }

    func testIdenticalOversizedRequestsInFlightAllGetTheirAnswer() async throws {
        let daemon = try await startRoomyDaemon()
        let endpoint = try daemon.endpoint(.tcp)
        gateway.behavior.fault = .slow(.milliseconds(300))
        let body = chat(echoing: 9 << 20, tag: "shared")
        let http = self.http!
        let answers = try await withThrowingTaskGroup(of: HTTPResult.self) { group in
            for _ in 0..<3 {
                group.addTask { try await http.post(chatPath, to: endpoint, body: body) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(answers.map(\.status), [200, 200, 200])
        XCTAssertTrue(answers.allSatisfy { $0.body.count > 9 << 20 }, "each got the whole answer")
        let calls = gateway.recorder.requests.filter { $0.path == chatPath }.count
        XCTAssertTrue((1...3).contains(calls), "one relays the shared call, the others ask themselves: \(calls)")
    }

    func testRoutesThatAreNotCachedAreRelayedWithTheirUsage() async throws {
        let daemon = try await startRoomyDaemon()
        let endpoint = try daemon.endpoint(.tcp)
        let models = try await http.get("/v1/models", to: endpoint)
        XCTAssertEqual(models.status, 200)
        XCTAssertEqual(models.header("x-sluice-cache"), "bypass")
        XCTAssertNotNil(models.json?["data"], "the relayed list is intact JSON")

        let noStore = try await http.post(
            chatPath, to: endpoint, headers: [("cache-control", "no-store")], body: chat(echoing: 10, tag: "nostore"))
        XCTAssertEqual(noStore.status, 200)
        XCTAssertEqual(noStore.header("x-sluice-cache"), "bypass")
        let rows = try await rows(daemon, count: 2)
        XCTAssertEqual(rows.last?.spent, .chat, "usage of a relayed answer")
    }

    private func rows(_ daemon: DaemonProcess, count: Int) async throws -> [StoredUsageRow] {
        let path = daemon.databasePath
        let arrived = try await eventually(within: .seconds(5)) { ((try? UsageTable.rowsNow(at: path))?.count ?? 0) >= count }
        XCTAssertTrue(arrived, "\(count) usage rows")
        return try await UsageTable.rows(at: path)
    }
}
