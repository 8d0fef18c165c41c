#if canImport(Glibc)
import Glibc
#endif

/// A socket that the test owns, as systemd owns the sockets of a `.socket`
/// unit: bound (and listening, for stream sockets), handed to the daemon by
/// descriptor.
final class ListeningSocket: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The descriptor (close-on-exec: only an explicit `dup2` passes it on).
    let descriptor: CInt
    /// The kernel-chosen port of a TCP socket.
    let port: Int?
    /// The file of a Unix socket.
    let path: String?

    private init(descriptor: CInt, port: Int?, path: String?) {
        self.descriptor = descriptor
        self.port = port
        self.path = path
    }

    deinit {
        close(descriptor)
        if let path { unlink(path) }
    }

    /// A TCP socket listening on 127.0.0.1 on a port of the kernel's choosing.
    static func tcpOnLoopback() throws -> ListeningSocket {
        let descriptor = try makeSocket(family: AF_INET)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        try finish(descriptor, bound: bound, what: "127.0.0.1:0")
        return ListeningSocket(descriptor: descriptor, port: Int(UInt16(bigEndian: address.sin_port)), path: nil)
    }

    /// A UDP socket bound to 127.0.0.1, what a `ListenDatagram=` unit would pass:
    /// not a stream socket, so nothing Sluice can serve HTTP on.
    static func udpOnLoopback() throws -> ListeningSocket {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw Failure(description: "could not bind a UDP socket on 127.0.0.1: errno \(errno)")
        }
        return ListeningSocket(descriptor: descriptor, port: nil, path: nil)
    }

    /// A Unix stream socket listening at `path`.
    static func unix(at path: String) throws -> ListeningSocket {
        let descriptor = try makeSocket(family: AF_UNIX)
        let bound = try SocketAddressUnix(path: path).withSockAddr { bind(descriptor, $0, $1) == 0 }
        try finish(descriptor, bound: bound, what: path)
        return ListeningSocket(descriptor: descriptor, port: nil, path: path)
    }

    private static func makeSocket(family: CInt) throws -> CInt {
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        return descriptor
    }

    private static func finish(_ descriptor: CInt, bound: Bool, what: String) throws {
        guard bound, listen(descriptor, 64) == 0 else {
            let code = errno
            close(descriptor)
            throw Failure(description: "could not bind and listen on \(what): errno \(code)")
        }
    }
}

/// A `sockaddr_un` for a socket file path.
struct SocketAddressUnix {
    private var address = sockaddr_un()

    init(path: String) throws {
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ListeningSocket.Failure(description: "unix socket path too long: \(path)")
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
    }

    func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafePointer(to: address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
