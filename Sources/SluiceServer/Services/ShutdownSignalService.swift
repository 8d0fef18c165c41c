import Logging
import ServiceLifecycle
import UnixSignals

/// Turns the first SIGTERM or SIGINT into a graceful stop of the daemon.
///
/// It returns when one arrives, and its group entry says
/// `successTerminationBehavior: .gracefullyShutdownGroup`, so the group then
/// stops its services in reverse order. It stands in for the group's own
/// `gracefulShutdownSignals`, which are trapped only once the group runs (see
/// `DaemonSignals`). Put it last, so that it is the first asked to stop.
struct ShutdownSignalService: Service {
    let signals: UnixSignalsSequence
    let logger: Logger

    func run() async throws {
        for await signal in signals.cancelOnGracefulShutdown() {
            logger.info("stop requested", metadata: ["signal": "\(signal)"])
            return
        }
    }
}
