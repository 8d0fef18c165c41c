import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SluiceCore

/// One upstream stream read once and relayed to every identical streamed
/// request in flight: the first opens it, later ones join and get the chunks
/// from the start, then live as they arrive.
///
/// A producer (see `start(_:)`) reads the upstream in a task of its own, so
/// the opener's client leaving does not end the stream for the others; each
/// subscriber reads from its own cursor. Memory is bounded:
/// - chunks are kept for late joiners up to `retainLimit` bytes; past that
///   nobody can join any more and chunks every subscriber has read are dropped;
/// - the producer waits while the slowest subscriber is more than `lagLimit`
///   bytes behind (a client that stops reading is cut by its idle timeout,
///   which unsubscribes it).
///
/// When the last subscriber leaves before the end, the upstream call is cancelled.
final class SharedStream: Sendable {
    /// The upstream answer's status and headers.
    struct Head: Sendable {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        /// When the request went upstream.
        var started: ContinuousClock.Instant
    }

    /// How the stream ended, with the usage it reported up to then.
    enum End: Sendable {
        case finished(usage: TokenUsage?)
        case failed(SluiceError, usage: TokenUsage?)
    }

    private struct Subscriber {
        /// Index, in the whole stream, of the next chunk this subscriber reads.
        var nextChunk = 0
        var bytesRead = 0
        var waiting: CheckedContinuation<Void, Never>?
    }

    private struct State {
        var head: Result<Head, SluiceError>?
        /// The chunks still kept; `chunks[0]` is chunk number `firstChunk` of the stream.
        var chunks: [ByteBuffer] = []
        var firstChunk = 0
        var keptBytes = 0
        var bytesPublished = 0
        var joinable = true
        var end: End?
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriberID = 0
        var producerWaiting: CheckedContinuation<Void, Never>?
        var producer: Task<Void, Never>?
        /// Set when the last subscriber left: the producer stops.
        var abandoned = false

        var slowestBytesRead: Int { subscribers.values.map(\.bytesRead).min() ?? bytesPublished }

        /// Drops the chunks every subscriber has read, once no one can join.
        mutating func dropReadChunks() {
            guard !joinable else { return }
            let slowest = subscribers.values.map(\.nextChunk).min() ?? firstChunk + chunks.count
            let droppable = slowest - firstChunk
            guard droppable > 0 else { return }
            keptBytes -= chunks[..<droppable].reduce(0) { $0 + $1.readableBytes }
            chunks.removeFirst(droppable)
            firstChunk += droppable
        }

        /// Wakes every waiting subscriber (new data, the head, or the end).
        mutating func takeWaitingSubscribers() -> [CheckedContinuation<Void, Never>] {
            var woken: [CheckedContinuation<Void, Never>] = []
            for id in subscribers.keys {
                if let waiting = subscribers[id]?.waiting {
                    woken.append(waiting)
                    subscribers[id]?.waiting = nil
                }
            }
            return woken
        }
    }

    private let state = NIOLockedValueBox(State())
    let retainLimit: Int
    let lagLimit: Int

    init(retainLimit: Int, lagLimit: Int) {
        self.retainLimit = retainLimit
        self.lagLimit = lagLimit
    }

    // MARK: Producing

    /// Runs `produce` in a task of its own: it publishes the head, the chunks
    /// and the end. The task is cancelled when every subscriber has left.
    /// - Parameter executor: where it runs (the opener's event loop: its
    ///   reads then wake the opener without a thread hop); nil for the default.
    func start(on executor: (any TaskExecutor)? = nil, _ produce: @escaping @Sendable (SharedStream) async -> Void) {
        let task = Task(executorPreference: executor) { await produce(self) }
        let abandoned = state.withLockedValue { state -> Bool in
            state.producer = task
            return state.abandoned
        }
        if abandoned { task.cancel() }
    }

    /// Whether every subscriber has left: the producer should stop reading.
    var isAbandoned: Bool { state.withLockedValue { $0.abandoned } }

    func publishHead(_ head: Result<Head, SluiceError>) {
        let woken = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.head = head
            if case .failure(let error) = head { state.end = .failed(error, usage: nil) }
            return state.takeWaitingSubscribers()
        }
        for continuation in woken { continuation.resume() }
    }

    /// Adds a chunk for every subscriber, then waits (back-pressure) while the
    /// slowest one is more than `lagLimit` bytes behind.
    func publish(_ chunk: ByteBuffer) async {
        let woken = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.chunks.append(chunk)
            state.keptBytes += chunk.readableBytes
            state.bytesPublished += chunk.readableBytes
            if state.joinable, state.keptBytes > retainLimit {
                state.joinable = false
            }
            state.dropReadChunks()
            return state.takeWaitingSubscribers()
        }
        for continuation in woken { continuation.resume() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let waits = state.withLockedValue { state -> Bool in
                    guard !state.abandoned, !Task.isCancelled,
                          state.bytesPublished - state.slowestBytesRead > lagLimit else { return false }
                    state.producerWaiting = continuation
                    return true
                }
                if !waits { continuation.resume() }
            }
        } onCancel: {
            state.withLockedValue { state in
                defer { state.producerWaiting = nil }
                return state.producerWaiting
            }?.resume()
        }
    }

    func finish(_ end: End) {
        let woken = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            if state.head == nil, case .failed(let error, _) = end { state.head = .failure(error) }
            state.end = end
            state.joinable = false
            return state.takeWaitingSubscribers()
        }
        for continuation in woken { continuation.resume() }
    }

    // MARK: Subscribing

    /// A new reader from the first chunk; nil once the stream can no longer be joined.
    func subscribe() -> Subscription? {
        state.withLockedValue { state -> Subscription? in
            guard state.joinable, !state.abandoned else { return nil }
            let id = state.nextSubscriberID
            state.nextSubscriberID += 1
            state.subscribers[id] = Subscriber()
            return Subscription(stream: self, id: id)
        }
    }

    /// Whether the stream still takes new subscribers.
    var isJoinable: Bool { state.withLockedValue { $0.joinable && !$0.abandoned } }

    fileprivate enum Step {
        case value(ByteBuffer)
        case end(End)
        case wait
    }

    fileprivate func head(for id: Int) async throws(SluiceError) -> Head {
        while true {
            let head = state.withLockedValue { $0.head }
            switch head {
            case .success(let head): return head
            case .failure(let error): throw error
            case nil:
                guard !Task.isCancelled else { throw .clientClosed }
                await wait(id) { $0.head != nil }
            }
        }
    }

    fileprivate func next(for id: Int) async -> Step {
        while true {
            let (step, producer) = state.withLockedValue { state -> (Step, CheckedContinuation<Void, Never>?) in
                guard var subscriber = state.subscribers[id] else { return (.end(.failed(.clientClosed, usage: nil)), nil) }
                let index = subscriber.nextChunk - state.firstChunk
                if index < state.chunks.count {
                    let chunk = state.chunks[index]
                    subscriber.nextChunk += 1
                    subscriber.bytesRead += chunk.readableBytes
                    state.subscribers[id] = subscriber
                    state.dropReadChunks()
                    var producer: CheckedContinuation<Void, Never>?
                    if state.bytesPublished - state.slowestBytesRead <= lagLimit {
                        producer = state.producerWaiting
                        state.producerWaiting = nil
                    }
                    return (.value(chunk), producer)
                }
                if let end = state.end { return (.end(end), nil) }
                return (.wait, nil)
            }
            producer?.resume()
            guard case .wait = step else { return step }
            guard !Task.isCancelled else { return .end(.failed(.clientClosed, usage: nil)) }
            await wait(id) { state in
                guard let subscriber = state.subscribers[id] else { return true }
                return subscriber.nextChunk - state.firstChunk < state.chunks.count || state.end != nil
            }
        }
    }

    /// Waits until `ready` holds or the task is cancelled.
    private func wait(_ id: Int, until ready: (State) -> Bool) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let waits = state.withLockedValue { state -> Bool in
                    guard !Task.isCancelled, !ready(state), state.subscribers[id] != nil else { return false }
                    state.subscribers[id]?.waiting = continuation
                    return true
                }
                if !waits { continuation.resume() }
            }
        } onCancel: {
            state.withLockedValue { state in
                defer { state.subscribers[id]?.waiting = nil }
                return state.subscribers[id]?.waiting
            }?.resume()
        }
    }

    fileprivate func unsubscribe(_ id: Int) {
        let (waiting, producer, producerTask) = state.withLockedValue {
            state -> (CheckedContinuation<Void, Never>?, CheckedContinuation<Void, Never>?, Task<Void, Never>?) in
            guard let subscriber = state.subscribers.removeValue(forKey: id) else { return (nil, nil, nil) }
            state.dropReadChunks()
            var producerTask: Task<Void, Never>?
            if state.subscribers.isEmpty, state.end == nil {
                state.abandoned = true
                state.joinable = false
                producerTask = state.producer
            }
            let producer = state.producerWaiting
            state.producerWaiting = nil
            return (subscriber.waiting, producer, producerTask)
        }
        waiting?.resume()
        producer?.resume()
        producerTask?.cancel()
    }

    /// How many requests read this stream now (for tests and diagnostics).
    var subscriberCount: Int { state.withLockedValue { $0.subscribers.count } }

    /// Bytes held for subscribers and late joiners.
    var keptBytes: Int { state.withLockedValue { $0.keptBytes } }
}

/// One request's reader of a `SharedStream`. Call `cancel()` when done with it,
/// whatever happened (the stream counts its readers).
struct Subscription: Sendable {
    let stream: SharedStream
    let id: Int

    /// Waits for the upstream answer's head.
    func head() async throws(SluiceError) -> SharedStream.Head {
        try await stream.head(for: id)
    }

    /// Leaves the stream; the last to leave before its end cancels the upstream call.
    func cancel() {
        stream.unsubscribe(id)
    }

    /// Reads the body after `head()`: the chunks in order, then the end.
    /// - Parameter opener: whether this request opened the stream (its upstream call is this request's).
    func body(head: SharedStream.Head, opener: Bool) -> SharedStreamBody {
        SharedStreamBody(subscription: self, head: head, opener: opener)
    }
}

/// A relayed body read from a `SharedStream` (see `RelayedBody`).
struct SharedStreamBody: RelayedBody {
    let subscription: Subscription
    let head: SharedStream.Head
    let opener: Bool
    private(set) var usage: TokenUsage?

    init(subscription: Subscription, head: SharedStream.Head, opener: Bool) {
        self.subscription = subscription
        self.head = head
        self.opener = opener
    }

    var status: HTTPResponseStatus { head.status }
    var headers: HTTPHeaders { head.headers }
    var upstreamCallStarted: ContinuousClock.Instant? { opener ? head.started : nil }

    mutating func next() async throws -> ByteBuffer? {
        switch await subscription.stream.next(for: subscription.id) {
        case .value(let chunk):
            return chunk
        case .end(.finished(let usage)):
            self.usage = usage
            return nil
        case .end(.failed(let error, let usage)):
            self.usage = usage
            throw error
        case .wait:
            preconditionFailure("next(for:) waits itself")
        }
    }
}
