import Logging
import ServiceLifecycle
import SluiceCore
import UnixSignals

/// Reloads keys and limits on SIGHUP without a restart.
///
/// Buckets keep their state; a configuration that fails to load is refused
/// with a logged error and the one in force stays.
struct ReloadOnHangupService: Service {
    /// SIGHUP, trapped before the listeners are bound (see `DaemonSignals`).
    let hangups: UnixSignalsSequence
    let reload: @Sendable () throws -> Settings
    let apply: @Sendable (Settings) -> Void
    let notifier: SystemdNotifier?
    let logger: Logger

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            _ = notifier?.reloading()
            do {
                let settings = try reload()
                apply(settings)
                logger.info("configuration reloaded: keys and limits applied",
                            metadata: ["keys": "\(settings.keys.map { String($0.count) } ?? "pass-through")"])
                _ = notifier?.ready(status: "configuration reloaded")
            } catch {
                logger.error("configuration reload refused; the previous one stays in force", metadata: ["error": "\(error)"])
                _ = notifier?.ready(status: "reload refused: \(error)")
            }
        }
    }
}
