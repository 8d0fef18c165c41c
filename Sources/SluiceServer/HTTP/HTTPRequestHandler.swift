import NIOCore
import NIOHTTP1

/// Receives requests on one connection, enforces the body limit, and hands each
/// complete request to the responder.
///
/// Sits behind NIO's `HTTPServerPipelineHandler`, which serialises pipelined
/// requests, so at most one request per connection is in flight here.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer, ContinuousClock.Instant)
        /// The body went over the limit: the 413 is sent, the rest is ignored.
        case discarding
        case responding
    }

    private let responder: any HTTPResponder
    private let maxBodyBytes: Int
    private let transport: RequestTransport
    /// How long one write of a streamed answer may stay pending (see `ResponseWriter`).
    private let writeTimeout: TimeAmount?
    private var state = State.idle
    private var inFlight: InFlightRequest?

    init(responder: any HTTPResponder, maxBodyBytes: Int, transport: RequestTransport, writeTimeout: TimeAmount? = nil) {
        self.responder = responder
        self.maxBodyBytes = maxBodyBytes
        self.transport = transport
        self.writeTimeout = writeTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let receivedAt = ContinuousClock.now
            if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > maxBodyBytes {
                rejectTooLarge(context: context, receivedAt: receivedAt, head: head)
                return
            }
            state = .receiving(head, context.channel.allocator.buffer(capacity: 0), receivedAt)
        case .body(var part):
            guard case .receiving(let head, var body, let receivedAt) = state else { return }
            if body.readableBytes + part.readableBytes > maxBodyBytes {
                rejectTooLarge(context: context, receivedAt: receivedAt, head: head)
                return
            }
            state = .idle  // drop the reference so the append does not copy
            if body.readableBytes == 0 {
                body = part
            } else {
                body.writeBuffer(&part)
            }
            state = .receiving(head, body, receivedAt)
        case .end:
            guard case .receiving(let head, let body, let receivedAt) = state else {
                if case .discarding = state { state = .idle }
                return
            }
            state = .responding
            let request = IncomingRequest(head: head, body: body, receivedAt: receivedAt, transport: transport)
            let writer = ResponseWriter(channel: context.channel, keepAlive: head.isKeepAlive, writeTimeout: writeTimeout)
            inFlight = responder.respond(to: request, writer: writer)
            state = .idle
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The client hung up: stop work done only for it.
        inFlight?.cancel()
        inFlight = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func rejectTooLarge(context: ChannelHandlerContext, receivedAt: ContinuousClock.Instant, head: HTTPRequestHead) {
        state = .discarding
        let writer = ResponseWriter(channel: context.channel, keepAlive: false)
        responder.rejectBodyTooLarge(head: head, receivedAt: receivedAt, transport: transport, writer: writer)
    }
}

/// Answers requests. Called on the connection's event loop; may answer at once
/// or start asynchronous work and return a handle to cancel it.
protocol HTTPResponder: Sendable {
    func respond(to request: IncomingRequest, writer: ResponseWriter) -> InFlightRequest?
    func rejectBodyTooLarge(head: HTTPRequestHead, receivedAt: ContinuousClock.Instant, transport: RequestTransport, writer: ResponseWriter)
}

/// Asynchronous work answering one request, cancelled when its client hangs up.
struct InFlightRequest: Sendable {
    let task: Task<Void, Never>

    func cancel() { task.cancel() }
}
