import Logging
import ServiceLifecycle
import SluiceCore
import UnixSignals

/// Reloads keys, limits, budgets, web access rules and the upstream credential (its
/// file is read again: a rotated key or OIDC token) on SIGHUP without a restart.
///
/// Buckets and budget spend keep their state; a configuration that fails to load is refused
/// with a logged error and the one in force stays.
struct ReloadOnHangupService: Service {
    /// SIGHUP, trapped before the listeners are bound (see `DaemonSignals`).
    let hangups: UnixSignalsSequence
    let reload: @Sendable () throws -> Configuration
    let apply: @Sendable (Configuration) -> Void
    let notifier: SystemdNotifier?
    let logger: Logger

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            _ = notifier?.reloading()
            do {
                let configuration = try reload()
                apply(configuration)
                logger.info("configuration reloaded: keys, limits, budgets, allowed hosts and origins, and the upstream credential applied",
                            metadata: [
                                "keys": "\(configuration.settings.keys.map { String($0.count) } ?? "pass-through")",
                                "credential": "\(configuration.upstream.credential.map { "\($0.source)" } ?? "none")",
                            ])
                _ = notifier?.ready(status: "configuration reloaded")
            } catch {
                logger.error("configuration reload refused; the previous one stays in force", metadata: ["error": "\(error)"])
                _ = notifier?.ready(status: "reload refused: \(error)")
            }
        }
    }
}
