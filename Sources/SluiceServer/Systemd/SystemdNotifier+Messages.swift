#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension SystemdNotifier {
    /// Start-up (or a reload) is complete: `READY=1`, with an optional status line.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        send(Self.message(["READY=1"], status: status))
    }

    /// A reload has begun (`RELOADING=1`); send `ready()` when it is done.
    ///
    /// Carries `MONOTONIC_USEC`, the `CLOCK_MONOTONIC` time the reload began, which
    /// systemd 253 and later want with `RELOADING=1`.
    @discardableResult
    public func reloading() -> Bool {
        send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())")
    }

    /// Shutdown has begun: `STOPPING=1`.
    @discardableResult
    public func stopping(status: String? = nil) -> Bool {
        send(Self.message(["STOPPING=1"], status: status))
    }

    /// A free-form status line shown by `systemctl status`.
    @discardableResult
    public func status(_ text: String) -> Bool {
        send(Self.message([], status: text))
    }

    /// Keeps the service manager's watchdog from firing: `WATCHDOG=1`.
    @discardableResult
    public func watchdog() -> Bool {
        send("WATCHDOG=1")
    }

    /// Joins assignments, with the status flattened to one line (a newline would
    /// start a new assignment).
    static func message(_ assignments: [String], status: String?) -> String {
        var lines = assignments
        if let status {
            let oneLine = status.map { $0.isNewline ? " " : String($0) }.joined()
            lines.append("STATUS=\(oneLine)")
        }
        return lines.joined(separator: "\n")
    }

    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}
