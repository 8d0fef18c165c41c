import Foundation
import Hummingbird
import Logging
import NIOCore

/// An in-process stand-in for the Vercel AI Gateway, listening on 127.0.0.1 on a
/// port of the kernel's choosing. Tests point the daemon's `--upstream` at `baseURL`,
/// set `behavior`, and read `recorder` to see what reached upstream.
final class FakeGateway: Sendable {
    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    let recorder: FakeGatewayRecorder
    private let behaviorBox: LockedBox<FakeGatewayBehavior>
    private let runTask: Task<Void, Never>

    /// The upstream URL to give the daemon, e.g. `http://127.0.0.1:41234/v1`.
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }
    var endpoint: HTTPEndpoint { .tcp(host: "127.0.0.1", port: port) }

    var behavior: FakeGatewayBehavior {
        get { behaviorBox.current }
        set { behaviorBox.withLock { $0 = newValue } }
    }

    private init(port: Int, recorder: FakeGatewayRecorder, behaviorBox: LockedBox<FakeGatewayBehavior>, runTask: Task<Void, Never>) {
        self.port = port
        self.recorder = recorder
        self.behaviorBox = behaviorBox
        self.runTask = runTask
    }

    /// Starts the gateway and returns once it accepts connections.
    static func start(behavior: FakeGatewayBehavior = FakeGatewayBehavior()) async throws -> FakeGateway {
        let recorder = FakeGatewayRecorder()
        let behaviorBox = LockedBox(behavior)
        let (boundPorts, portSink) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "FakeGateway")
        logger.logLevel = .critical  // cancelled connections at stop() log errors
        let app = Application(
            responder: FakeGatewayResponder(recorder: recorder, behavior: behaviorBox),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port {
                    portSink.yield(port)
                }
                portSink.finish()
            },
            logger: logger
        )
        let runTask = Task {
            // Ends by cancellation in `stop()`; a failure to bind shows as no port below.
            try? await app.run()
            portSink.finish()
        }
        var ports = boundPorts.makeAsyncIterator()
        guard let port = await ports.next() else {
            throw StartFailure(description: "the fake gateway did not start listening on 127.0.0.1")
        }
        return FakeGateway(port: port, recorder: recorder, behaviorBox: behaviorBox, runTask: runTask)
    }

    /// Stops listening and cancels answers still in progress (stalled ones included).
    func stop() async {
        runTask.cancel()
        await runTask.value
    }
}
