import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Counts the client connections open over all listeners and refuses those
/// past the cap, while the others keep being served.
///
/// A refused connection is answered at once with a tiny
/// `503 Service Unavailable` in the OpenAI error shape
/// (`"code":"too_many_connections"`) and `connection: close`, written as soon
/// as it is accepted and without reading the request, then closed; it never
/// reaches the HTTP pipeline. A client that already sent its request may see
/// the connection reset rather than the 503; either way it may retry later.
final class ConnectionLimiter: Sendable {
    let maximum: Int
    private let open = NIOLockedValueBox(0)

    init(maximum: Int) {
        self.maximum = max(1, maximum)
    }

    /// Connections counted now.
    var openConnections: Int { open.withLockedValue { $0 } }

    /// Counts `channel` if there is room, and uncounts it when it closes.
    /// Returns `false` (counting nothing) when the cap is reached.
    func admit(_ channel: any Channel) -> Bool {
        let admitted = open.withLockedValue { count in
            guard count < maximum else { return false }
            count += 1
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [open] _ in open.withLockedValue { $0 -= 1 } }
        }
        return admitted
    }

    /// The bytes a refused connection gets.
    static let refusal: ByteBuffer = {
        let body = #"{"error":{"message":"too many connections are open to sluice; retry later","type":"server_error","param":null,"code":"too_many_connections"}}"#
        let head = "HTTP/1.1 503 Service Unavailable\r\n"
            + "content-type: application/json\r\n"
            + "content-length: \(body.utf8.count)\r\n"
            + "retry-after: 1\r\n"
            + "connection: close\r\n\r\n"
        return ByteBuffer(string: head + body)
    }()
}

/// The only handler of a refused connection: writes the 503 and closes.
final class ConnectionRefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        let closing = context.eventLoop.makePromise(of: Void.self)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        closing.futureResult.whenComplete { _ in bound.value.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(ConnectionLimiter.refusal), promise: closing)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The request is not read: the answer is the same whatever it says.
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
