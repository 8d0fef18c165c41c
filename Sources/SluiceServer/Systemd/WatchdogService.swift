#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ServiceLifecycle

/// Pets systemd's watchdog (`WATCHDOG=1`) at half the interval the service
/// manager asked for, until graceful shutdown or cancellation.
///
/// Put it first in the `ServiceGroup` so that it is shut down last: the
/// watchdog then keeps running while the other services drain.
public struct WatchdogService: Service {
    let notifier: SystemdNotifier
    /// Time between two pings.
    public let interval: Duration

    /// `nil` unless systemd asked for watchdog pings for this process:
    /// `NOTIFY_SOCKET` and `WATCHDOG_USEC` are set, and `WATCHDOG_PID`, when
    /// present, names `pid`.
    public init?(environment: [String: String], pid: pid_t = getpid()) {
        guard let notifier = SystemdNotifier(environment: environment),
              let interval = Self.pingInterval(environment: environment, pid: pid)
        else {
            return nil
        }
        self.init(notifier: notifier, interval: interval)
    }

    public init(notifier: SystemdNotifier, interval: Duration) {
        self.notifier = notifier
        self.interval = interval
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    notifier.watchdog()
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            // Graceful shutdown or cancellation: stop pinging and return normally.
        }
    }

    /// Half of `WATCHDOG_USEC`, when it applies to `pid`.
    static func pingInterval(environment: [String: String], pid: pid_t) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"],
              let microseconds = UInt64(text), microseconds > 0
        else {
            return nil
        }
        if let owner = environment["WATCHDOG_PID"] {
            guard let ownerPID = pid_t(owner), ownerPID == pid else { return nil }
        }
        return .microseconds(microseconds / 2)
    }
}
