import Foundation
import XCTest

/// Identical streams in flight share one upstream call, each reader getting
/// the events as they arrive (CONTRACT, "Cache"; issue 13, point 1).
final class StreamCoalescingTests: DaemonTestCase {
    private let body = OpenAIRequests.chat("one stream for all", stream: true)

    override func setUp() async throws {
        try await super.setUp()
        gateway.behavior.streamChunkCount = 6
        gateway.behavior.streamChunkDelay = .milliseconds(150)
    }

    func testIdenticalStreamsInFlightShareOneUpstreamCallAndArriveLive() async throws {
        let daemon = try await startDaemon()
        let (http, body) = (self.http!, self.body)
        let opener = Task { try await http.stream(chatPath, to: daemon.endpoint(.tcp), body: body) }
        // The others join mid-stream: they get what was sent so far, then the rest live.
        try await Task.sleep(for: .milliseconds(400))
        let joiners = try await withThrowingTaskGroup(of: StreamedResult.self) { group in
            for transport in [Transport.tcp, .unixSocket, .unixSocket] {
                group.addTask { try await http.stream(chatPath, to: daemon.endpoint(transport), body: body) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let first = try await opener.value

        XCTAssertEqual(gateway.recorder.requests.count, 1, "one upstream call for four streams")
        XCTAssertEqual(first.headers.first(name: "x-sluice-cache"), "miss")
        XCTAssertEqual(joiners.map { $0.headers.first(name: "x-sluice-cache") }, ["coalesced", "coalesced", "coalesced"])
        let upstreamBody = try XCTUnwrap(gateway.recorder.answers.first?.body)
        for result in [first] + joiners {
            XCTAssertEqual(result.status, 200)
            XCTAssertEqual(result.body, upstreamBody, "every reader gets every byte the upstream sent, in order")
            XCTAssertEqual(result.events.last, "[DONE]")
        }
        for joiner in joiners {
            // Live, not buffered whole: the last chunks came at the upstream's pace.
            let spread = try XCTUnwrap(joiner.chunks.last?.arrival) - XCTUnwrap(joiner.chunks.first?.arrival)
            XCTAssertGreaterThan(spread, .milliseconds(200), "a joiner's events arrive as the upstream sends them")
            let lag = try XCTUnwrap(joiner.chunks.last?.arrival) - XCTUnwrap(first.chunks.last?.arrival)
            XCTAssertTrue(lag < .milliseconds(150) && lag > .milliseconds(-150), "a joiner ends with the opener: \(lag)")
        }

        let rows = try await usageRows(daemon, count: 4)
        XCTAssertEqual(rows.map(\.cacheOutcome).sorted(), ["coalesced", "coalesced", "coalesced", "miss"])
        XCTAssertTrue(rows.allSatisfy(\.streaming))
        let miss = try XCTUnwrap(rows.first { $0.cacheOutcome == "miss" })
        XCTAssertEqual(miss.spent, .chat, "the opener paid")
        XCTAssertNil(miss.saved)
        for row in rows where row.cacheOutcome == "coalesced" {
            XCTAssertNil(row.spent, "a reader of a shared stream spends nothing")
            XCTAssertEqual(row.saved, .chat, "and saves what the stream cost")
        }

        let later = try await http.stream(chatPath, to: daemon.endpoint(.tcp), body: body)
        XCTAssertEqual(later.headers.first(name: "x-sluice-cache"), "hit", "the shared stream was stored once")
        XCTAssertEqual(gateway.recorder.requests.count, 1)
    }

    func testTheOpenerHangingUpDoesNotEndTheStreamForTheOthers() async throws {
        let daemon = try await startDaemon()
        let (http, body) = (self.http!, self.body)
        // The opener hangs up after its second event, once the joiner is in.
        let opener = Task { try await http.stream(chatPath, to: daemon.endpoint(.unixSocket), body: body, stopAfter: 2) }
        try await Task.sleep(for: .milliseconds(50))
        let joiner = try await http.stream(chatPath, to: daemon.endpoint(.tcp), body: body)
        _ = try await opener.value

        XCTAssertEqual(joiner.headers.first(name: "x-sluice-cache"), "coalesced")
        XCTAssertEqual(joiner.events.last, "[DONE]", "the joiner got the whole stream")
        XCTAssertEqual(joiner.body, gateway.recorder.answers.first?.body)
        XCTAssertEqual(gateway.recorder.requests.count, 1)
        XCTAssertTrue(gateway.recorder.cancelledAnswers.isEmpty, "the upstream stream went on for the joiner")
        let later = try await http.post(chatPath, to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("one stream for all"))
        XCTAssertEqual(later.header("x-sluice-cache"), "hit", "and was stored")
    }

    func testWhenEveryReaderHangsUpTheUpstreamStreamIsCancelledAndNothingIsStored() async throws {
        gateway.behavior.streamChunkCount = 12
        gateway.behavior.streamChunkDelay = .milliseconds(250)
        let daemon = try await startDaemon()
        let (http, body) = (self.http!, self.body)
        async let first = http.stream(chatPath, to: daemon.endpoint(.tcp), body: body, stopAfter: 1)
        async let second = http.stream(chatPath, to: daemon.endpoint(.unixSocket), body: body, stopAfter: 1)
        _ = try await (first, second)

        let cancelled = try await eventually(within: .seconds(3)) { !self.gateway.recorder.cancelledAnswers.isEmpty }
        XCTAssertTrue(cancelled, "the upstream stream ended once nobody read it")
        XCTAssertEqual(gateway.recorder.requests.count, 1)
        let rows = try await usageRows(daemon, count: 2)
        XCTAssertEqual(rows.map(\.errorCode), ["client_closed", "client_closed"])
        let again = try await http.stream(chatPath, to: daemon.endpoint(.tcp), body: body, stopAfter: 1)
        XCTAssertEqual(again.headers.first(name: "x-sluice-cache"), "miss", "the cut stream was not stored")
    }

    func testStreamsAskingForDifferentUsageChunksAreNotShared() async throws {
        let daemon = try await startDaemon()
        let http = self.http!
        async let withUsage = http.stream(
            chatPath, to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("usage or not", stream: true, includeUsage: true))
        async let withoutUsage = http.stream(
            chatPath, to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("usage or not", stream: true, includeUsage: false))
        let (with, without) = try await (withUsage, withoutUsage)

        XCTAssertEqual(gateway.recorder.requests.count, 2, "each asked for a different stream")
        XCTAssertTrue(with.events.contains { $0.contains("\"usage\"") })
        XCTAssertFalse(without.events.contains { $0.contains("\"usage\"") }, "no usage chunk that was not asked for")
    }

    func testAStreamThatBreaksOffFailsEveryReaderAndIsNotStored() async throws {
        let daemon = try await startDaemon()
        let (http, body) = (self.http!, self.body)
        gateway.behavior.fault = .dropAfter(.milliseconds(300))
        async let first = try? http.stream(chatPath, to: daemon.endpoint(.tcp), body: body)
        try await Task.sleep(for: .milliseconds(100))
        async let second = try? http.stream(chatPath, to: daemon.endpoint(.unixSocket), body: body)
        _ = await (first, second)

        XCTAssertEqual(gateway.recorder.requests.count, 1)
        let rows = try await usageRows(daemon, count: 2)
        XCTAssertEqual(rows.map(\.status), [502, 502], "both readers saw the upstream fail: \(rows.map(\.summary))")
        XCTAssertEqual(Set(rows.map(\.cacheOutcome)), ["miss", "coalesced"])
        gateway.behavior.fault = nil
        let again = try await http.stream(chatPath, to: daemon.endpoint(.tcp), body: body)
        XCTAssertEqual(again.headers.first(name: "x-sluice-cache"), "miss", "nothing was stored from the broken stream")
    }

    private func usageRows(_ daemon: DaemonProcess, count: Int) async throws -> [StoredUsageRow] {
        let path = daemon.databasePath
        let arrived = try await eventually(within: .seconds(5)) { ((try? UsageTable.rowsNow(at: path))?.count ?? 0) >= count }
        XCTAssertTrue(arrived, "\(count) usage rows")
        return try await UsageTable.rows(at: path)
    }
}
