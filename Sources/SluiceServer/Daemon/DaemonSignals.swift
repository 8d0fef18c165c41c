import UnixSignals

/// The signals `sluice serve` handles, trapped at the very start of
/// `Daemon.start`, before a listener is bound.
///
/// From then on SIGTERM/SIGINT mean a graceful stop and SIGHUP a reload, never
/// their default action (termination), even when they arrive before the
/// services run: a request answered in that window still gets its usage row,
/// and `systemctl reload` right after READY does not kill the daemon. A signal
/// that arrives early waits in its sequence until a service reads it.
struct DaemonSignals: Sendable {
    /// SIGTERM and SIGINT (see `ShutdownSignalService`).
    let shutdown: UnixSignalsSequence
    /// SIGHUP (see `ReloadOnHangupService`).
    let hangup: UnixSignalsSequence

    static func trap() async -> DaemonSignals {
        DaemonSignals(
            shutdown: await UnixSignalsSequence(trapping: .sigterm, .sigint),
            hangup: await UnixSignalsSequence(trapping: .sighup))
    }
}
