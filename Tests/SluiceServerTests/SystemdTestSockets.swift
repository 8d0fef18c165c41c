#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
@testable import SluiceServer

/// A datagram socket a test binds to stand in for systemd's notification socket.
final class NotifySocketReceiver {
    let address: String
    private let descriptor: CInt

    /// Binds to `address`: an absolute path, or `@name` for an abstract socket.
    init(address: String) throws {
        self.address = address
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SystemCallFailed(call: "socket") }
        let parsed = try UnixSocketAddress(address)
        let bound = parsed.withSockAddr { bind(descriptor, $0, $1) }
        guard bound == 0 else {
            close(descriptor)
            throw SystemCallFailed(call: "bind")
        }
    }

    deinit {
        close(descriptor)
        if address.hasPrefix("/") {
            unlink(address)
        }
    }

    /// The next datagram, or `nil` when none arrives within `timeoutMilliseconds`.
    func receive(timeoutMilliseconds: Int32 = 2_000) -> String? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count >= 0 else { return nil }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }

    /// Every datagram that arrives within `milliseconds`.
    func receiveAll(during milliseconds: Int32) -> [String] {
        var messages: [String] = []
        let deadline = Self.nowMilliseconds() + Int64(milliseconds)
        while case let remaining = deadline - Self.nowMilliseconds(), remaining > 0 {
            if let message = receive(timeoutMilliseconds: Int32(remaining)) {
                messages.append(message)
            }
        }
        return messages
    }

    private static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000 + Int64(now.tv_nsec) / 1_000_000
    }
}

struct SystemCallFailed: Error, CustomStringConvertible {
    var call: String
    var errorNumber: CInt = errno
    var description: String { "\(call) failed: errno \(errorNumber)" }
}

/// A fresh path under the temporary directory, short enough for `sun_path`.
func temporarySocketPath(_ tag: String) -> String {
    "/tmp/sluice-test-\(getpid())-\(tag)-\(UInt32.random(in: 0...UInt32.max)).sock"
}
