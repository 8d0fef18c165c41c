#if canImport(Glibc)
import Glibc
#endif

/// Whether something accepts connections at an address right now: one blocking
/// `connect`, closed at once. Used where an HTTP request would take too long or
/// would disturb what the test watches.
enum SocketProbe {
    /// Whether a TCP connection to 127.0.0.1:`port` is accepted.
    static func acceptsTCP(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Whether a connection to the Unix socket at `path` is accepted.
    static func acceptsUnix(path: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0, let address = try? SocketAddressUnix(path: path) else { return false }
        defer { close(descriptor) }
        return address.withSockAddr { connect(descriptor, $0, $1) == 0 }
    }
}
