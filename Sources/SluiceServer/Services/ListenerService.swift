import Logging
import NIOCore
import ServiceLifecycle

/// Serves on all bound listeners until graceful shutdown, then drains them
/// together: stop accepting, let in-flight requests finish (bounded by the
/// shutdown timeout), cut those still running and give them a moment to record
/// their usage rows, close what is left, remove the socket files it created.
///
/// One service for all listeners, so they stop at the same moment.
struct ListenerService: Service {
    let listeners: [BoundListener]
    let inFlight: InFlightRequests
    let shutdownTimeout: Duration
    /// How long cut requests get to answer and queue their usage rows.
    static let bookkeepingGrace = Duration.seconds(5)
    let logger: Logger
    /// Called when the service starts, all services running (e.g. for sd_notify
    /// `READY=1`; the signals are trapped since before binding: `DaemonSignals`).
    var onServing: @Sendable () -> Void = {}
    /// Called once serving has stopped accepting (e.g. for sd_notify `STOPPING=1`).
    var onStopping: @Sendable () -> Void = {}

    func run() async throws {
        onServing()
        try? await gracefulShutdown()
        onStopping()
        logger.info("shutting down: no new connections, draining requests in flight",
                    metadata: ["in_flight": "\(inFlight.count)"])
        await drain()
        for listener in listeners {
            if let path = listener.ownedSocketPath { UnixSocketFile.remove(path: path) }
        }
        logger.info("listeners closed")
    }

    private func drain() async {
        let deadline = ContinuousClock.now + shutdownTimeout
        let openListeners = ActiveRequestCounter()
        for listener in listeners {
            openListeners.increment()
            let promise = listener.channel.eventLoop.makePromise(of: Void.self)
            promise.futureResult.whenComplete { _ in openListeners.decrement() }
            listener.quiescing.initiateShutdown(promise: promise)
        }
        // Every connection closed after its last answer, or the deadline.
        while openListeners.value > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        // Requests whose clients left still finish their bookkeeping.
        while inFlight.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if inFlight.count > 0 {
            logger.warning("shutdown timeout reached; cutting requests still running",
                           metadata: ["in_flight": "\(inFlight.count)"])
            inFlight.cutAll()
            let graceEnd = ContinuousClock.now + Self.bookkeepingGrace
            while inFlight.count > 0, ContinuousClock.now < graceEnd {
                try? await Task.sleep(for: .milliseconds(10))
            }
            if inFlight.count > 0 {
                logger.error("requests did not end after being cut; their usage rows may be missing",
                             metadata: ["in_flight": "\(inFlight.count)"])
            }
        }
        for listener in listeners {
            try? await listener.channel.close()
        }
    }
}
