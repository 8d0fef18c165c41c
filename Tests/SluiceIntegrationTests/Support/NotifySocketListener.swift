import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One `sd_notify` datagram as the listener received it.
struct NotifyDatagram: Sendable, CustomStringConvertible {
    var arrival: ContinuousClock.Instant
    var text: String

    /// The `KEY=VALUE` lines, in order.
    var lines: [String] { text.split(separator: "\n").map(String.init) }

    /// The value of the first `KEY=` line, or `nil` when there is none.
    func value(_ key: String) -> String? {
        let prefix = key + "="
        return lines.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// Whether the datagram carries the exact line `line`, e.g. `READY=1`.
    func has(_ line: String) -> Bool {
        lines.contains(line)
    }

    var description: String { text.replacingOccurrences(of: "\n", with: "|") }
}

/// Plays systemd's side of `sd_notify`: an `AF_UNIX` datagram socket, bound to a
/// path or an abstract name, whose every datagram is kept with its arrival time.
///
/// A background thread receives; `onDatagram` runs on that thread right after
/// each datagram arrives, before the next is read, so a test can check the
/// daemon's state at that moment. `close()` stops the thread and the socket.
final class NotifySocketListener: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    enum Address: Sendable {
        /// A socket file at this absolute path.
        case path(String)
        /// An abstract socket name (no file), written `@name` in `NOTIFY_SOCKET`.
        case abstract(String)
    }

    /// What to put in `NOTIFY_SOCKET`.
    let environmentValue: String
    private let descriptor: CInt
    private let received = LockedBox<[NotifyDatagram]>([])
    private let hook = LockedBox<(@Sendable (NotifyDatagram) -> Void)?>(nil)
    private let stopRequested = LockedBox(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let address: Address

    init(_ address: Address) throws {
        self.address = address
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket(AF_UNIX, SOCK_DGRAM) failed: errno \(errno)") }
        let nameBytes: [UInt8]
        switch address {
        case .path(let path):
            nameBytes = Array(path.utf8) + [0]
            environmentValue = path
        case .abstract(let name):
            nameBytes = [0] + Array(name.utf8)
            environmentValue = "@" + name
        }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        guard nameBytes.count <= MemoryLayout.size(ofValue: socketAddress.sun_path) else {
            Glibc.close(descriptor)
            throw Failure(description: "notify socket name too long: \(environmentValue)")
        }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: nameBytes) }
        let length = socklen_t((MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2) + nameBytes.count)
        let bound = withUnsafePointer(to: &socketAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 }
        }
        guard bound else {
            let code = errno
            Glibc.close(descriptor)
            throw Failure(description: "could not bind the notify socket \(environmentValue): errno \(code)")
        }
        self.descriptor = descriptor
        Thread.detachNewThread { [self] in receiveUntilClosed() }
    }

    deinit {
        close()
    }

    /// Everything received so far, oldest first.
    var datagrams: [NotifyDatagram] { received.current }

    /// Runs `body` on the receiving thread for every datagram that arrives from now on.
    func onDatagram(_ body: @escaping @Sendable (NotifyDatagram) -> Void) {
        hook.withLock { $0 = body }
    }

    /// The first datagram at or after position `index` that satisfies `condition`,
    /// waiting up to `timeout` for it; returns it with its position.
    func first(
        from index: Int = 0, within timeout: Duration = .seconds(20), where condition: (NotifyDatagram) -> Bool
    ) async throws -> (index: Int, datagram: NotifyDatagram) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let all = datagrams
            if index < all.count, let found = all[index...].firstIndex(where: condition) {
                return (found, all[found])
            }
            guard ContinuousClock.now < deadline else {
                throw Failure(description: "no matching datagram within \(timeout); received: \(all.map(\.description))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Stops receiving, closes the socket and removes its file. Safe to call twice.
    func close() {
        let wasStopped = stopRequested.withLock { stop in
            defer { stop = true }
            return stop
        }
        guard !wasStopped else { return }
        stopped.wait()
        Glibc.close(descriptor)
        if case .path(let path) = address { unlink(path) }
    }

    private func receiveUntilClosed() {
        defer { stopped.signal() }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stopRequested.current {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard count > 0 else { continue }
            let datagram = NotifyDatagram(arrival: .now, text: String(decoding: buffer.prefix(count), as: UTF8.self))
            hook.current?(datagram)
            received.withLock { $0.append(datagram) }
        }
    }
}
