import NIOCore
import NIOHTTP1

/// Closes a connection that has not sent a complete request for the idle
/// timeout: counted from when it opened and from each answer's end, so idle
/// keep-alive clients and slow clients (a head or body trickling in byte by
/// byte, "slowloris") are cut off alike. Bytes arriving do not push the
/// deadline back; only a complete request does.
///
/// While a request is being answered the timer is off, however long upstream
/// takes (the upstream timeout covers that). A client that stops reading an
/// answer is covered by `ResponseWriter`'s write timeout.
///
/// Placed after NIO's HTTP server pipeline (`configureHTTPServerPipeline`),
/// so it sees `HTTPServerRequestPart`s inbound and `HTTPServerResponsePart`s
/// outbound. `HTTPServerPipelineHandler`, before it, holds back pipelined
/// requests until the previous answer's `.end` has been written, so at most
/// one request is in flight here. A head that never completes produces no
/// part at all, which is why the timer armed at `channelActive` must (and
/// does) run until a whole request has arrived.
final class IdleConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let timeout: TimeAmount
    private var state = IdleTimerState()
    private var scheduled: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { apply(state.connectionOpened(), context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelActive(context: ChannelHandlerContext) {
        apply(state.connectionOpened(), context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        apply(state.connectionClosed(), context: context)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            apply(state.requestReceived(), context: context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Armed before the write goes on: writing an answer's end makes
        // `HTTPServerPipelineHandler` hand over a pipelined request at once,
        // whose `.end` must find the timer already armed to disarm it.
        if case .end = unwrapOutboundIn(data) {
            apply(state.answerWritten(), context: context)
        }
        context.write(data, promise: promise)
    }

    private func apply(_ action: IdleTimerState.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .disarm:
            disarm()
        case .arm:
            disarm()
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            scheduled = context.eventLoop.scheduleTask(in: timeout) {
                bound.value.handler.expired(context: bound.value.context)
            }
        }
    }

    private func expired(context: ChannelHandlerContext) {
        scheduled = nil
        guard state.timerFired() else { return }
        context.close(promise: nil)
    }

    private func disarm() {
        scheduled?.cancel()
        scheduled = nil
    }
}

/// The idle timer's rules, apart from the event loop: armed while the
/// connection waits for a request, off while one is answered.
struct IdleTimerState: Equatable {
    enum Phase: Equatable {
        /// Not yet open (or not yet seen open).
        case notStarted
        /// Open, waiting for a complete request: the timer runs.
        case waitingForRequest
        /// A request arrived whole and is being answered: no timer.
        case answering
        case closed
    }

    enum Action: Equatable {
        case none
        case arm
        case disarm
    }

    private(set) var phase = Phase.notStarted

    mutating func connectionOpened() -> Action {
        guard phase == .notStarted else { return .none }
        phase = .waitingForRequest
        return .arm
    }

    mutating func requestReceived() -> Action {
        guard phase == .waitingForRequest else { return .none }
        phase = .answering
        return .disarm
    }

    /// An answer's end was written. Also restarts the timer when the answer
    /// came before the request was whole (e.g. an early 413): the client
    /// then still gets only the idle timeout to finish.
    mutating func answerWritten() -> Action {
        switch phase {
        case .answering, .waitingForRequest:
            phase = .waitingForRequest
            return .arm
        case .notStarted, .closed:
            return .none
        }
    }

    mutating func connectionClosed() -> Action {
        phase = .closed
        return .disarm
    }

    /// Whether the connection should be closed now that the timer went off.
    func timerFired() -> Bool {
        phase == .waitingForRequest
    }
}
