import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Idle and slow clients are cut at `--idle-timeout`, connections past
/// `--max-connections` are refused at once while the rest are served, a
/// client that stops reading a stream is dropped, and bad input does not
/// hurt the daemon. All over raw sockets to the real daemon.
final class ConnectionLimitsTests: DaemonTestCase {
    private func launch(_ arguments: [String]) -> DaemonLaunch {
        var launch = defaultLaunch()
        launch.arguments = arguments
        return launch
    }

    // MARK: idle timeout

    func testIdleConnectionIsClosedAtTheIdleTimeout() async throws {
        let daemon = try await startDaemon(launch(["--idle-timeout", "1s"]))
        let port = try XCTUnwrap(daemon.tcpPort)

        let idle = try RawSocket.tcp(port: port)
        let idleClosedAfter = try await idle.waitUntilClosed(within: .seconds(4))
        XCTAssertNotNil(idleClosedAfter, "a connection that sends nothing is closed")
        if let idleClosedAfter {
            XCTAssertGreaterThan(idleClosedAfter, .milliseconds(800), "not before the idle timeout")
            XCTAssertLessThan(idleClosedAfter, .seconds(3))
        }

        let kept = try RawSocket.tcp(port: port)
        try kept.send("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        let answer = try await kept.readResponse(within: .seconds(3))
        XCTAssertEqual(answer?.status, 200)
        let answeredAt = ContinuousClock.now
        let keptClosedAfter = try await kept.waitUntilClosed(within: .seconds(4))
        XCTAssertNotNil(keptClosedAfter, "a keep-alive connection is closed after its answer")
        if keptClosedAfter != nil {
            let sinceAnswer = ContinuousClock.now - answeredAt
            XCTAssertGreaterThan(sinceAnswer, .milliseconds(800))
            XCTAssertLessThan(sinceAnswer, .seconds(3))
        }
    }

    func testSlowlorisHeadIsCutAtTheIdleTimeout() async throws {
        let daemon = try await startDaemon(launch(["--idle-timeout", "1s"]))
        let port = try XCTUnwrap(daemon.tcpPort)
        let path = try XCTUnwrap(daemon.socketPath)
        for transport in Transport.allCases {
            let socket = try transport == .tcp ? RawSocket.tcp(port: port) : RawSocket.unix(path: path)
            let head = Array("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: " + String(repeating: "a", count: 100))
            let opened = ContinuousClock.now
            var sent = 0
            var closedAfter: Duration?
            while ContinuousClock.now - opened < .seconds(4) {
                if socket.isClosed() {
                    closedAfter = ContinuousClock.now - opened
                    break
                }
                if sent < head.count, socket.trySend(String(head[sent])) { sent += 1 }
                try await Task.sleep(for: .milliseconds(300))
            }
            let cutAfter = try XCTUnwrap(closedAfter, "\(transport): a head trickling in is cut off")
            XCTAssertGreaterThan(cutAfter, .milliseconds(800), "\(transport)")
            XCTAssertLessThan(cutAfter, .seconds(3), "\(transport)")
            XCTAssertGreaterThan(sent, 2, "\(transport): bytes kept coming until the cut")
        }
    }

    func testSlowUpstreamLongerThanTheIdleTimeoutIsStillAnswered() async throws {
        gateway.behavior.fault = .slow(.seconds(2))
        let daemon = try await startDaemon(launch(["--idle-timeout", "1s"]))
        for transport in Transport.allCases {
            let answer = try await http.post(
                "/v1/chat/completions", to: daemon.endpoint(transport), body: OpenAIRequests.chat("slow \(transport)"))
            XCTAssertEqual(answer.status, 200, "\(transport): \(answer.text)")
        }
    }

    // MARK: many connections

    func testThreeThousandOpenConnectionsAndARequestIsStillAnsweredPromptly() async throws {
        RawSocket.raiseOpenFileLimit(to: 8192)
        let daemon = try await startDaemon()
        let port = try XCTUnwrap(daemon.tcpPort)
        var sockets: [RawSocket] = []
        sockets.reserveCapacity(3000)
        for _ in 0..<3000 {
            sockets.append(try RawSocket.tcp(port: port))
        }
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertEqual(sockets.filter { $0.isClosed() }.count, 0, "all 3,000 stay open")

        let started = ContinuousClock.now
        let answer = try await http.post("/v1/chat/completions", to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("3000 open"))
        let took = ContinuousClock.now - started
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertLessThan(took, .seconds(2), "answered promptly beside 3,000 open connections")
        XCTAssertTrue(daemon.isRunning)
    }

    func testConnectionsPastMaxConnectionsAreRefusedAtOnce() async throws {
        let daemon = try launchDaemon(launch(["--max-connections", "50"]))
        let port = try XCTUnwrap(daemon.tcpPort)
        // Not `startDaemon`: the HTTP client's pooled connection would take a place.
        try await waitUntilServing(port: port)

        var held: [RawSocket] = []
        for _ in 0..<50 { held.append(try RawSocket.tcp(port: port)) }
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertEqual(held.filter { $0.isClosed() }.count, 0, "the first 50 are kept")

        let refused = try RawSocket.tcp(port: port)
        let started = ContinuousClock.now
        let closedAfter = try await refused.waitUntilClosed(within: .seconds(2))
        XCTAssertNotNil(closedAfter, "the 51st is refused")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(1), "refused at once")
        let text = String(decoding: refused.received, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 503"), "the 51st gets a 503: \(text)")
        XCTAssertTrue(text.contains(#""code":"too_many_connections""#), text)
        XCTAssertTrue(text.lowercased().contains("connection: close"), text)

        // One of the 50 is still served.
        try held[10].send("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        let onHeld = try await held[10].readResponse(within: .seconds(3))
        XCTAssertEqual(onHeld?.status, 200, "a request on one of the first 50 works")

        // Freeing places lets new connections in.
        for socket in held.suffix(5) { socket.close() }
        held.removeLast(5)
        var status: Int?
        let deadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < deadline {
            status = try await RawSocket.get("/healthz", port: port)
            if status == 200 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertEqual(status, 200, "served again once some connections closed")
        XCTAssertEqual(held.filter { $0.isClosed() }.count, 0)
    }

    // MARK: a client that stops reading

    func testClientThatStopsReadingAStreamIsDroppedAndUpstreamCancelled() async throws {
        gateway.behavior.streamChunkCount = 4000
        gateway.behavior.streamChunkPadding = 32 * 1024  // ~128 MiB if it were all sent
        let daemon = try await startDaemon(launch(["--idle-timeout", "1s"]))
        let rssBefore = try XCTUnwrap(Self.residentKiB(of: daemon.processIdentifier))

        let socket = try RawSocket.tcp(port: XCTUnwrap(daemon.tcpPort), receiveBuffer: 4096)
        let body = OpenAIRequests.chat("never read", stream: true)
        try socket.send(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                + "content-length: \(body.count)\r\n\r\n")
        try socket.send(body)
        let sent = ContinuousClock.now

        // Never read: the daemon's writes stall, and after the idle timeout it gives up.
        let cancelled = try await eventually(within: .seconds(10)) {
            self.gateway.recorder.cancelledAnswers.contains { $0.hasPrefix("/v1/chat/completions") }
        }
        XCTAssertTrue(cancelled, "the upstream stream is cancelled once the client is dropped")
        XCTAssertGreaterThan(ContinuousClock.now - sent, .milliseconds(800), "not before the idle timeout")
        XCTAssertLessThan(gateway.recorder.answers.count, 1, "the stream did not run to its end")

        // The daemon closed its end: what it had sent is drained, then EOF.
        let drained = try await socket.waitUntilClosed(within: .seconds(5), draining: true)
        XCTAssertNotNil(drained, "the daemon closed the connection")
        XCTAssertLessThan(socket.receivedCount, 64 * 1024 * 1024, "far less than the whole stream reached the client")

        let rssAfter = try XCTUnwrap(Self.residentKiB(of: daemon.processIdentifier))
        XCTAssertLessThan(rssAfter - rssBefore, 96 * 1024, "RSS grew from \(rssBefore) KiB to \(rssAfter) KiB")
        let health = try await http.get("/healthz", to: daemon.endpoint(.tcp))
        XCTAssertEqual(health.status, 200)
    }

    // MARK: bad input

    func testMalformedHTTPAndJSONLeaveTheDaemonServing() async throws {
        let daemon = try await startDaemon()
        let port = try XCTUnwrap(daemon.tcpPort)
        let chat = "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        let malformed: [(String, [UInt8])] = [
            ("garbage", Array("\u{1}\u{2}\u{3}garbage\u{7f}\r\n\r\n".utf8)),
            ("bad request line", Array("GET\r\n\r\n".utf8)),
            ("no version", Array("GET /healthz\r\nhost: 127.0.0.1\r\n\r\n".utf8)),
            ("huge header line", Array(("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-huge: "
                + String(repeating: "h", count: 100 * 1024) + "\r\n\r\n").utf8)),
            ("content-length not a number", Array((chat + "content-length: abc\r\n\r\n{}").utf8)),
            ("negative content-length", Array((chat + "content-length: -5\r\n\r\n{}").utf8)),
            ("two content-lengths", Array((chat + "content-length: 2\r\ncontent-length: 3\r\n\r\n{}").utf8)),
            ("bad chunk size", Array((chat + "transfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n").utf8)),
            ("NUL in a header", Array("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-a: a".utf8) + [0] + Array("b\r\n\r\n".utf8)),
            ("NUL in the request line", Array("GET /heal".utf8) + [0] + Array("thz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".utf8)),
        ]
        for (what, bytes) in malformed {
            let socket = try RawSocket.tcp(port: port)
            _ = socket.trySend(bytes)
            let closed = try await socket.waitUntilClosed(within: .seconds(3), draining: true)
            XCTAssertNotNil(closed, "\(what): the connection is closed")
            let text = String(decoding: socket.received, as: UTF8.self)
            if !text.isEmpty {
                let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) }
                XCTAssertTrue((400..<500).contains(status ?? 0), "\(what): answered \(text.prefix(200))")
            }
        }

        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let badJSON = ["{not json", "", "[1,2", "\u{0}", #"{"model": }"#, #"{"model":"m","messages":[{"role":"user","content":"x"}]"#,
                       #"{"model":"m"}}"#, "\u{FEFF}\u{FEFF}", #"{"a":"\#u{1}"}"#, deep, "{\"model\":" + deep + "}"]
        for (index, body) in badJSON.enumerated() {
            let answer = try await http.post("/v1/chat/completions", to: daemon.endpoint(.tcp), body: Data(body.utf8))
            XCTAssertOpenAIError(answer, status: 400, "bad JSON #\(index)")
        }

        XCTAssertTrue(daemon.isRunning)
        for transport in Transport.allCases {
            let health = try await http.get("/healthz", to: daemon.endpoint(transport))
            XCTAssertEqual(health.status, 200, "\(transport)")
            let answer = try await http.post(
                "/v1/chat/completions", to: daemon.endpoint(transport), body: OpenAIRequests.chat("after the burst \(transport)"))
            XCTAssertEqual(answer.status, 200, "\(transport): \(answer.text)")
        }
    }

    // MARK: helpers

    private func waitUntilServing(port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if try await RawSocket.get("/healthz", port: port) == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTFail("the daemon did not answer /healthz on port \(port)")
    }

    /// VmRSS of a process, in KiB.
    private static func residentKiB(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").compactMap { Int($0) }.first
        }
        return nil
    }
}

/// A client socket the test drives byte by byte: non-blocking after connect,
/// so waiting never holds a thread the fake gateway needs.
private final class RawSocket: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var descriptor: CInt
    /// What the peer sent so far (kept up to 64 KiB; `receivedCount` counts it all).
    private(set) var received: [UInt8] = []
    private(set) var receivedCount = 0
    private var sawEnd = false

    private init(descriptor: CInt) {
        self.descriptor = descriptor
    }

    deinit { close() }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    static func tcp(port: Int, receiveBuffer: Int? = nil) throws -> RawSocket {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket(): errno \(errno)") }
        if var size = receiveBuffer.map(CInt.init) {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        return try finish(descriptor, connected: connected, to: "127.0.0.1:\(port)")
    }

    static func unix(path: String) throws -> RawSocket {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket(): errno \(errno)") }
        let connected = try SocketAddressUnix(path: path).withSockAddr { connect(descriptor, $0, $1) == 0 }
        return try finish(descriptor, connected: connected, to: path)
    }

    private static func finish(_ descriptor: CInt, connected: Bool, to what: String) throws -> RawSocket {
        guard connected else {
            let code = errno
            Glibc.close(descriptor)
            throw Failure(description: "connect to \(what): errno \(code)")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        return RawSocket(descriptor: descriptor)
    }

    /// Raises this process's soft `RLIMIT_NOFILE` to at least `wanted` (as far as the hard limit allows).
    static func raiseOpenFileLimit(to wanted: UInt64) {
        var limit = rlimit()
        let resource = __rlimit_resource_t(UInt32(RLIMIT_NOFILE.rawValue))
        guard getrlimit(resource, &limit) == 0, UInt64(limit.rlim_cur) < wanted else { return }
        limit.rlim_cur = rlim_t(min(wanted, UInt64(limit.rlim_max)))
        setrlimit(resource, &limit)
    }

    /// One `GET` with `connection: close`: the status, or `nil` if none came.
    static func get(_ path: String, port: Int) async throws -> Int? {
        guard let socket = try? RawSocket.tcp(port: port) else { return nil }
        try socket.send("GET \(path) HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        return try await socket.readResponse(within: .seconds(2))?.status
    }

    func send(_ text: String) throws {
        try send(Data(text.utf8))
    }

    func send(_ data: Data) throws {
        var bytes = [UInt8](data)
        let deadline = ContinuousClock.now + .seconds(5)
        while !bytes.isEmpty {
            let sent = Glibc.send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL))
            if sent > 0 {
                bytes.removeFirst(sent)
            } else if errno == EAGAIN || errno == EWOULDBLOCK, ContinuousClock.now < deadline {
                usleep(1000)
            } else {
                throw Failure(description: "send: errno \(errno)")
            }
        }
    }

    /// Sends what the socket takes now; `false` when it is closed (or would block).
    @discardableResult
    func trySend(_ text: String) -> Bool { trySend(Array(text.utf8)) }

    @discardableResult
    func trySend(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Reads what is there without waiting; `true` once the peer closed (EOF or reset).
    func isClosed() -> Bool {
        pump()
        return sawEnd
    }

    private func pump() {
        guard !sawEnd else { return }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 {
                receivedCount += count
                if received.count < 65536 { received += buffer[0..<min(count, 65536 - received.count)] }
                continue
            }
            if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                sawEnd = true  // EOF, or ECONNRESET
            }
            return
        }
    }

    /// Waits until the peer closes; returns how long that took, `nil` if it did not.
    /// Data that arrives is read (and kept) either way; `draining` only documents
    /// that the caller expects some before the end.
    func waitUntilClosed(within timeout: Duration, draining: Bool = false) async throws -> Duration? {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < timeout {
            if isClosed() { return ContinuousClock.now - started }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// Reads one response with a `content-length` (or one that ends with the connection).
    func readResponse(within timeout: Duration) async throws -> (status: Int, body: [UInt8])? {
        let deadline = ContinuousClock.now + timeout
        let start = received.count
        while ContinuousClock.now < deadline {
            pump()
            let bytes = Array(received[start...])
            if let split = Self.headEnd(in: bytes) {
                let head = String(decoding: bytes[..<split], as: UTF8.self)
                let status = head.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
                let length = head.lowercased().split(separator: "\r\n")
                    .first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
                let body = Array(bytes[(split + 4)...])
                if let length, body.count >= length { return (status, Array(body.prefix(length))) }
                if length == nil, sawEnd { return (status, body) }
            }
            if sawEnd { return nil }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    private static func headEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}
