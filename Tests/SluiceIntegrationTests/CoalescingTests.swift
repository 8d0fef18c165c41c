import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import XCTest

/// Identical requests in flight share one upstream call (CONTRACT, "Cache").
final class CoalescingTests: DaemonTestCase {
    private var wide: ConcurrentHTTPClient!

    override func setUp() async throws {
        try await super.setUp()
        wide = ConcurrentHTTPClient()
    }

    override func tearDown() async throws {
        await wide?.shutdown()
        try await super.tearDown()
    }

    func testConcurrentIdenticalRequestsShareOneUpstreamCall() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        gateway.behavior.fault = .slow(.milliseconds(500))

        let answers = try await wide.post(count: 20, chatPath, to: endpoint, body: OpenAIRequests.chat("together"))

        XCTAssertEqual(gateway.recorder.requests.count, 1, "one upstream call for twenty clients")
        XCTAssertEqual(answers.map(\.status), Array(repeating: 200, count: 20))
        let outcomes = answers.compactMap { $0.header("x-sluice-cache") }
        XCTAssertEqual(outcomes.filter { $0 == "miss" }.count, 1, "\(outcomes)")
        XCTAssertEqual(outcomes.filter { $0 == "coalesced" }.count, 19, "\(outcomes)")
        XCTAssertEqual(Set(answers.map(\.body)).count, 1, "everyone got the same body")
        XCTAssertEqual(answers.first?.body, gateway.recorder.answers.first?.body)

        let later = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("together"))
        XCTAssertEqual(later.header("x-sluice-cache"), "hit", "the shared answer was stored once")
    }

    func testCoalescingOverTheUnixSocket() async throws {
        let endpoint = try await startDaemon().endpoint(.unixSocket)
        gateway.behavior.fault = .slow(.milliseconds(400))

        let answers = try await wide.post(count: 5, "/v1/embeddings", to: endpoint, body: OpenAIRequests.embeddings(["same"]))

        XCTAssertEqual(gateway.recorder.requests.count, 1)
        XCTAssertEqual(answers.map(\.status), Array(repeating: 200, count: 5))
        XCTAssertEqual(answers.filter { $0.header("x-sluice-cache") == "coalesced" }.count, 4)
    }

    func testDifferentRequestsAreNotCoalesced() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        gateway.behavior.fault = .slow(.milliseconds(300))

        let http = self.http!
        async let first = http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("one"))
        async let second = http.post(chatPath, to: endpoint, headers: bearer("sk-other-client"), body: OpenAIRequests.chat("one"))
        let outcomes = try await [first, second].map { $0.header("x-sluice-cache") }

        XCTAssertEqual(outcomes, ["miss", "miss"], "another client key is another cache scope")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
    }

    func testAFailedSharedCallAnswersEveryWaiterWithTheUpstreamError() async throws {
        let upstream = try await ScriptedUpstream.start(delay: .milliseconds(500), failure: .status500)
        addTeardownBlock { await upstream.stop() }
        let endpoint = try await startDaemon(DaemonLaunch(upstream: upstream.baseURL)).endpoint(.tcp)

        let started = ContinuousClock.now
        let answers = try await wide.post(count: 20, chatPath, to: endpoint, body: OpenAIRequests.chat("doomed"))
        let elapsed = ContinuousClock.now - started

        XCTAssertEqual(upstream.requestCount, 1)
        XCTAssertEqual(answers.map(\.status), Array(repeating: 500, count: 20))
        XCTAssertEqual(Set(answers.map(\.body)), [ScriptedUpstream.errorBody], "upstream errors pass through unchanged")
        XCTAssertLessThan(elapsed, .seconds(3), "nobody waited for more than the one call")

        let retry = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("doomed"))
        XCTAssertEqual(retry.header("x-sluice-cache"), "miss", "the failure was not stored")
        XCTAssertEqual(upstream.requestCount, 2)
    }

    func testADroppedSharedCallAnswersEveryWaiterWith502() async throws {
        let upstream = try await ScriptedUpstream.start(delay: .milliseconds(500), failure: .dropConnection)
        addTeardownBlock { await upstream.stop() }
        let endpoint = try await startDaemon(DaemonLaunch(upstream: upstream.baseURL)).endpoint(.tcp)

        let started = ContinuousClock.now
        let answers = try await wide.post(count: 20, chatPath, to: endpoint, body: OpenAIRequests.chat("dropped"))
        let elapsed = ContinuousClock.now - started

        XCTAssertEqual(upstream.requestCount, 1)
        for answer in answers {
            XCTAssertOpenAIError(answer, status: 502, "a waiter of a dropped call")
        }
        XCTAssertLessThan(elapsed, .seconds(3), "nobody waited for more than the one call")
    }

    func testTheFirstClientHangingUpDoesNotCancelTheSharedCall() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        gateway.behavior.fault = .slow(.milliseconds(800))
        let body = OpenAIRequests.chat("leader leaves")
        let wide = self.wide!

        let leader = Task { try await wide.post(chatPath, to: endpoint, body: body) }
        let leaderReachedUpstream = try await eventually { gateway.recorder.requests.count == 1 }
        XCTAssertTrue(leaderReachedUpstream)
        let followers = Task { try await wide.post(count: 5, chatPath, to: endpoint, body: body) }
        try await Task.sleep(for: .milliseconds(150))
        leader.cancel()
        let leaderResult = await leader.result

        let answers = try await followers.value
        XCTAssertThrowsError(try leaderResult.get(), "the leader's own request was cancelled")
        XCTAssertEqual(answers.map(\.status), Array(repeating: 200, count: 5))
        XCTAssertEqual(answers.compactMap { $0.header("x-sluice-cache") }, Array(repeating: "coalesced", count: 5))
        XCTAssertEqual(gateway.recorder.requests.count, 1)
        XCTAssertEqual(gateway.recorder.cancelledAnswers, [], "the shared upstream call ran to its end")
        XCTAssertEqual(gateway.recorder.answers.count, 1)

        let later = try await http.post(chatPath, to: endpoint, body: body)
        XCTAssertEqual(later.header("x-sluice-cache"), "hit", "the shared answer was still stored")
    }
}

// MARK: - Helpers

/// An HTTP client that really sends many requests at once: `TestHTTPClient`
/// keeps AsyncHTTPClient's default of 8 connections per host, which would make
/// later requests queue and turn them into cache hits.
final class ConcurrentHTTPClient: Sendable {
    private let client: HTTPClient

    init() {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2))
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    func post(_ path: String, to endpoint: HTTPEndpoint, body: Data) async throws -> HTTPResult {
        var request = HTTPClientRequest(url: endpoint.url(path))
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(15))
        var collected = Data()
        for try await part in response.body {
            collected += Data(buffer: part)
        }
        return HTTPResult(status: Int(response.status.code), headers: response.headers, body: collected)
    }

    /// Sends `count` copies of one request at once; answers in sending order.
    func post(count: Int, _ path: String, to endpoint: HTTPEndpoint, body: Data) async throws -> [HTTPResult] {
        try await withThrowingTaskGroup(of: (Int, HTTPResult).self) { group in
            for index in 0..<count {
                group.addTask { (index, try await self.post(path, to: endpoint, body: body)) }
            }
            var results: [(Int, HTTPResult)] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}

/// A tiny upstream that answers every request slowly and then fails, so that
/// identical requests pile up behind one failing call (the fake gateway's
/// faults are either slow or failing, not both).
final class ScriptedUpstream: Sendable {
    enum Failure: Sendable {
        /// Answers 500 with `errorBody`.
        case status500
        /// Sends the head and part of the body, then closes the connection.
        case dropConnection
    }

    static let errorBody = Data(#"{"error":{"message":"scripted failure","type":"internal_server_error","param":null,"code":"internal_error"}}"#.utf8)

    let port: Int
    private let requests: LockedBox<Int>
    private let runTask: Task<Void, Never>

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }
    var requestCount: Int { requests.current }

    private init(port: Int, requests: LockedBox<Int>, runTask: Task<Void, Never>) {
        self.port = port
        self.requests = requests
        self.runTask = runTask
    }

    static func start(delay: Duration, failure: Failure) async throws -> ScriptedUpstream {
        let requests = LockedBox(0)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "ScriptedUpstream")
        logger.logLevel = .critical
        let app = Application(
            responder: Responder(requests: requests, delay: delay, failure: failure),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port { portSink.yield(port) }
                portSink.finish()
            },
            logger: logger)
        let runTask = Task {
            try? await app.run()
            portSink.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            throw FakeGateway.StartFailure(description: "the scripted upstream did not start")
        }
        return ScriptedUpstream(port: port, requests: requests, runTask: runTask)
    }

    func stop() async {
        runTask.cancel()
        await runTask.value
    }

    private struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        struct DroppedOnPurpose: Error {}

        let requests: LockedBox<Int>
        let delay: Duration
        let failure: Failure

        func respond(to request: Request, context: Context) async throws -> Response {
            var request = request
            _ = try await request.collectBody(upTo: 1 << 20)
            requests.withLock { $0 += 1 }
            try await Task.sleep(for: delay)
            switch failure {
            case .status500:
                return Response(
                    status: .internalServerError, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: ScriptedUpstream.errorBody)))
            case .dropConnection:
                let body = ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: #"{"id":"chatcmpl-cut","obj"#))
                    throw DroppedOnPurpose()
                }
                return Response(status: .ok, headers: [.contentType: "application/json", .contentLength: "4096"], body: body)
            }
        }
    }
}
