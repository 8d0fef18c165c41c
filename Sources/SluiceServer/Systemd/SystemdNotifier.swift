#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Speaks systemd's notification protocol (`sd_notify`): one datagram of
/// `KEY=VALUE` lines to the socket named in `NOTIFY_SOCKET`.
///
/// Sending never blocks the caller for long and never throws: a service manager
/// that does not listen must not take the daemon down. `send` reports whether
/// the datagram left, so the caller can log a failure.
public struct SystemdNotifier: Sendable {
    let address: UnixSocketAddress

    /// `nil` when `NOTIFY_SOCKET` is unset, empty, or not an address this
    /// notifier can reach (not an absolute path or `@abstract` name, or too long).
    public init?(environment: [String: String]) {
        guard let value = environment["NOTIFY_SOCKET"], !value.isEmpty,
              let address = try? UnixSocketAddress(value)
        else {
            return nil
        }
        self.address = address
    }

    init(address: UnixSocketAddress) {
        self.address = address
    }

    /// Sends `message` as one datagram; returns whether it was sent.
    @discardableResult
    public func send(_ message: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let bytes = Array(message.utf8)
        let sent = address.withSockAddr { sockAddress, length in
            bytes.withUnsafeBytes { buffer in
                sendto(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), sockAddress, length)
            }
        }
        return sent == bytes.count
    }
}
