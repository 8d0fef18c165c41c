import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Writes one response to one connection, from any thread.
///
/// A response is either written whole (`send`) or streamed (`start`, `write`,
/// `finish`). Each streamed write completes once the bytes are handed to the
/// socket, which gives back-pressure to the producer. A client that stops
/// reading would hold that write (and the upstream stream behind it) forever,
/// so a write still pending after `writeTimeout` closes the connection; the
/// write then fails and the stream is abandoned. When the request did not
/// ask for keep-alive the connection is closed after the response.
final class ResponseWriter: Sendable {
    private let channel: any Channel
    private let keepAlive: Bool
    private let writeTimeout: TimeAmount?
    private let state = NIOLockedValueBox(State())

    private struct State {
        var headSent = false
        var bytesSent = 0
        var firstByteAt: ContinuousClock.Instant?
        /// Added to the answer's head, whichever way it is sent (CORS).
        var extraHeaders: [(String, String)] = []
    }

    init(channel: any Channel, keepAlive: Bool, writeTimeout: TimeAmount? = nil) {
        self.channel = channel
        self.keepAlive = keepAlive
        self.writeTimeout = writeTimeout
    }

    /// The event loop of the client's connection.
    var eventLoop: any EventLoop { channel.eventLoop }

    /// Body bytes written so far.
    var bytesSent: Int { state.withLockedValue { $0.bytesSent } }
    /// When the response head went out.
    var firstByteAt: ContinuousClock.Instant? { state.withLockedValue { $0.firstByteAt } }
    var headSent: Bool { state.withLockedValue { $0.headSent } }

    /// Sends a complete response. From off the event loop, the parts go over in
    /// one hop rather than one per write.
    func send(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) {
        var headers = headers
        headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        let extraHeaders = markHead(bodyBytes: body.readableBytes)
        let head = makeHead(status: status, headers: headers, extraHeaders: extraHeaders)
        let eventLoop = channel.eventLoop
        if eventLoop.inEventLoop {
            writeWhole(head: head, body: body)
        } else {
            eventLoop.execute { [self] in writeWhole(head: head, body: body) }
        }
    }

    /// Must run on the channel's event loop.
    private func writeWhole(head: HTTPResponseHead, body: ByteBuffer) {
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        if body.readableBytes > 0 {
            channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
        }
        if keepAlive {
            channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
        } else {
            let done = channel.eventLoop.makePromise(of: Void.self)
            channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: done)
            closeIfNeeded(after: done.futureResult)
        }
    }

    /// Starts a streamed response (chunked transfer encoding). The head is flushed
    /// at once but not waited for: the first part follows without a round trip,
    /// and a client that is gone shows up as a failed `write`.
    func start(status: HTTPResponseStatus, headers: HTTPHeaders) {
        var headers = headers
        headers.remove(name: "content-length")
        let extraHeaders = markHead(bodyBytes: 0)
        let head = makeHead(status: status, headers: headers, extraHeaders: extraHeaders)
        channel.writeAndFlush(HTTPServerResponsePart.head(head), promise: nil)
    }

    /// Writes one part of a streamed body and waits until it reached the socket.
    func write(_ part: ByteBuffer) async throws {
        state.withLockedValue { $0.bytesSent += part.readableBytes }
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(part)), promise: written)
        if let writeTimeout { closeIfStalled(written.futureResult, after: writeTimeout) }
        try await written.futureResult.get()
    }

    /// Closes the connection unless `write` completes within `timeout`.
    /// (`scheduleTask` and `whenComplete` may be called from any thread.)
    private func closeIfStalled(_ write: EventLoopFuture<Void>, after timeout: TimeAmount) {
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        write.whenComplete { _ in timer.cancel() }
    }

    /// Ends a streamed response.
    func finish() async throws {
        let done = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: done)
        closeIfNeeded(after: done.futureResult)
        try await done.futureResult.get()
    }

    /// Cuts the connection: used when a stream fails after its head was sent,
    /// so the client sees a truncated answer rather than a clean end.
    func abort() {
        channel.close(promise: nil)
    }

    /// Records that the head goes out; returns the headers every answer carries
    /// (read under the same lock, so an answer takes it once).
    private func markHead(bodyBytes: Int) -> [(String, String)] {
        state.withLockedValue {
            $0.headSent = true
            $0.bytesSent += bodyBytes
            $0.firstByteAt = .now
            return $0.extraHeaders
        }
    }

    /// Headers every answer on this writer carries, set before the answer starts
    /// (e.g. `access-control-allow-origin` for an allowed web origin).
    func addToEveryAnswer(_ headers: [(String, String)]) {
        state.withLockedValue { $0.extraHeaders += headers }
    }

    private func makeHead(
        status: HTTPResponseStatus, headers: HTTPHeaders, extraHeaders: [(String, String)]
    ) -> HTTPResponseHead {
        var headers = headers
        for (name, value) in extraHeaders { headers.replaceOrAdd(name: name, value: value) }
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        return HTTPResponseHead(version: .http1_1, status: status, headers: headers)
    }

    private func closeIfNeeded(after done: EventLoopFuture<Void>) {
        guard !keepAlive else { return }
        let channel = self.channel
        done.whenComplete { _ in channel.close(promise: nil) }
    }
}
