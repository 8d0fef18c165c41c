import NIOCore
import NIOEmbedded
import NIOHTTP1
import SluiceCore

/// The checks run on one input by the `FuzzHTTP` libFuzzer target
/// (`fuzz/Sources/FuzzHTTP`, which links this file) and by `HTTPFuzzCorpusTests`.
///
/// The input is what a client sends on one connection. It goes through NIO's
/// HTTP/1.1 server pipeline (`configureHTTPServerPipeline(withErrorHandling: true)`,
/// as `HTTPServer` installs it) into a responder that handles requests the way
/// `HTTPRequestHandler` does: a body limit answered with 413, and a body parsed
/// with `JSONParser` into a `RequestSummary` and its cache key form.
///
/// Besides "never traps": the request parts arrive in order, a body matches its
/// `content-length`, everything written back is HTTP/1.x responses, and the
/// bytes written back do not depend on how the input is split into reads.
enum HTTPFuzzCheck {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Outcome: Equatable, Sendable {
        /// Requests that reached their end and were answered.
        var answered: Int
        /// Everything the server wrote to the connection.
        var output: [UInt8]
    }

    /// Small, so that the fuzzer reaches the 413 path.
    static let maxBodyBytes = 2048

    static func run(_ bytes: [UInt8]) throws(Failure) -> Outcome {
        let whole = try serve(bytes, readSize: max(bytes.count, 1))
        let split = try serve(bytes, readSize: 1 + bytes.count % 7)
        guard whole.output == split.output else {
            throw Failure(description: """
                the answer depends on how the input is split into reads:
                whole: \(text(whole.output))
                split: \(text(split.output))
                """)
        }
        if !whole.output.isEmpty, !whole.output.starts(with: Array("HTTP/1.".utf8)) {
            throw Failure(description: "the server wrote something other than an HTTP response: \(text(whole.output))")
        }
        return whole
    }

    /// Feeds `bytes` to a fresh connection, `readSize` bytes per read.
    static func serve(_ bytes: [UInt8], readSize: Int) throws(Failure) -> Outcome {
        let channel = EmbeddedChannel()
        let responder = FuzzResponder(maxBodyBytes: maxBodyBytes)
        do {
            try channel.pipeline.syncOperations.addHandler(SocketSemantics())
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandler(responder)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        } catch {
            throw Failure(description: "cannot set up the channel: \(error)")
        }
        var output: [UInt8] = []
        var offset = 0
        while offset < bytes.count, channel.isActive {
            let end = min(offset + readSize, bytes.count)
            do {
                try channel.writeInbound(channel.allocator.buffer(bytes: bytes[offset..<end]))
            } catch {
                // An error that reached the end of the pipeline; the daemon's
                // handler closes the connection on any error, and so does ours.
            }
            try drain(channel, into: &output)
            offset = end
        }
        if channel.isActive {
            // The client is done sending.
            channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            try drain(channel, into: &output)
        }
        _ = try? channel.finish(acceptAlreadyClosed: true)
        try drain(channel, into: &output)
        if let violation = responder.violations.first {
            throw Failure(description: violation)
        }
        return Outcome(answered: responder.answered, output: output)
    }

    static func drain(_ channel: EmbeddedChannel, into output: inout [UInt8]) throws(Failure) {
        while true {
            let data: IOData?
            do {
                data = try channel.readOutbound(as: IOData.self)
            } catch {
                throw Failure(description: "the server wrote something that is not bytes: \(error)")
            }
            guard let data else { return }
            switch data {
            case .byteBuffer(let buffer): output.append(contentsOf: buffer.readableBytesView)
            case .fileRegion: throw Failure(description: "the server wrote a file region")
            }
        }
    }

    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(400), as: UTF8.self).debugDescription
    }
}

/// Sits next to the (embedded) socket and makes writes after `close` fail, as
/// they do on a real socket. An `EmbeddedChannel` keeps whatever is written
/// while it closes: the 400 that NIO's error handler sends when the decoder
/// finds half a request at close, or answers to requests decoded from bytes
/// that were read before the close. No client would see those.
final class SocketSemantics: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private var closed = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if closed {
            promise?.fail(ChannelError.ioOnClosedChannel)
        } else {
            context.write(data, promise: promise)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode != .input { closed = true }
        context.close(mode: mode, promise: promise)
    }
}

/// Handles request parts as `HTTPRequestHandler` does and answers at once.
final class FuzzResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        case discarding
    }

    let maxBodyBytes: Int
    private var state = State.idle
    private(set) var answered = 0
    private(set) var violations: [String] = []

    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if case .receiving = state { violations.append("a request head before the previous request's end") }
            if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > maxBodyBytes {
                reject(context: context, head: head)
                return
            }
            state = .receiving(head, context.channel.allocator.buffer(capacity: 0))
        case .body(var part):
            switch state {
            case .idle: violations.append("a body part outside a request")
            case .discarding: return
            case .receiving(let head, var body):
                if body.readableBytes + part.readableBytes > maxBodyBytes {
                    reject(context: context, head: head)
                    return
                }
                body.writeBuffer(&part)
                state = .receiving(head, body)
            }
        case .end:
            switch state {
            case .idle: violations.append("a request end outside a request")
            case .discarding: state = .idle
            case .receiving(let head, let body):
                state = .idle
                check(head: head, body: body)
                answer(context: context, head: head, body: body)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// What the decoder promises about a complete request.
    private func check(head: HTTPRequestHead, body: ByteBuffer) {
        let lengths = head.headers["content-length"]
        let chunked = head.headers["transfer-encoding"].contains { $0.lowercased().contains("chunked") }
        if lengths.count == 1, !chunked, let declared = Int(lengths[0]), declared != body.readableBytes {
            violations.append("content-length \(declared) but \(body.readableBytes) body bytes")
        }
        if body.readableBytes > maxBodyBytes {
            violations.append("a body of \(body.readableBytes) bytes passed the \(maxBodyBytes) byte limit")
        }
    }

    /// Answers like the proxy: a JSON body is summarised and keyed, anything else refused.
    private func answer(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        answered += 1
        let status: HTTPResponseStatus
        var payload: [UInt8]
        if body.readableBytes == 0 {
            status = .ok
            payload = Array("{\"method\":\"\(head.method.rawValue.count)\"}".utf8)
        } else {
            do {
                let document = try JSONParser.parse(Array(body.readableBytesView))
                let summary = RequestSummary(body: document)
                status = document.isObject ? .ok : .badRequest
                payload = CacheableBody.canonicalBytes(of: document)
                payload.append(contentsOf: "\n\(summary.stream) \(summary.includeUsage) \(summary.maxTokens ?? -1)".utf8)
            } catch {
                status = .badRequest
                payload = Array(error.description.utf8)
            }
        }
        write(context: context, status: status, payload: payload, keepAlive: head.isKeepAlive)
    }

    private func reject(context: ChannelHandlerContext, head: HTTPRequestHead) {
        state = .discarding
        write(context: context, status: .payloadTooLarge, payload: Array("too large".utf8), keepAlive: false)
    }

    private func write(context: ChannelHandlerContext, status: HTTPResponseStatus, payload: [UInt8], keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(payload.count))
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: payload)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if !keepAlive { context.close(promise: nil) }
    }
}
