import SluiceCore

/// Everything `sluice serve` decides before the daemon starts.
public struct DaemonOptions: Sendable {
    public var settings: Settings
    public var identity: UpstreamIdentity
    /// Sockets from systemd socket activation; when present they replace binding.
    public var inheritedSockets: [InheritedSocket] = []
    /// Calendar time for cache ages and usage rows (tests move it).
    public var clock: any WallClock = SystemWallClock()
    /// Trap SIGTERM/SIGINT (graceful stop) and SIGHUP (reload). Off for in-process tests.
    public var handleSignals = true
    /// sd_notify, when started by systemd with `NOTIFY_SOCKET`.
    public var notifier: SystemdNotifier?
    /// Watchdog pings, when systemd asked for them.
    public var watchdog: WatchdogService?
    /// Reads the configuration again (SIGHUP), the upstream credential file included.
    public var reloadConfiguration: (@Sendable () throws -> Configuration)?

    public init(settings: Settings, identity: UpstreamIdentity) {
        self.settings = settings
        self.identity = identity
    }
}
