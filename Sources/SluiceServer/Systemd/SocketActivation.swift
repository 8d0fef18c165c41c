#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads the listening sockets systemd passes to a socket-activated service
/// (the `sd_listen_fds` protocol: `LISTEN_PID`, `LISTEN_FDS`, `LISTEN_FDNAMES`,
/// descriptors from 3 up).
public enum SocketActivation {
    /// The first descriptor systemd passes.
    public static let firstDescriptor: CInt = 3

    static let variableNames = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]

    /// The sockets passed to process `pid`, each set close-on-exec.
    ///
    /// Empty when the variables are missing or malformed, or when `LISTEN_PID`
    /// names another process (the variables were inherited, not meant for us).
    public static func inheritedSockets(environment: [String: String], pid: pid_t = getpid()) -> [InheritedSocket] {
        inheritedSockets(environment: environment, pid: pid, firstFD: firstDescriptor)
    }

    /// As above; tests pass a high `firstFD` so they need not own descriptor 3.
    static func inheritedSockets(environment: [String: String], pid: pid_t, firstFD: CInt) -> [InheritedSocket] {
        guard let listenPID = environment["LISTEN_PID"].flatMap({ pid_t($0) }), listenPID == pid,
              let count = environment["LISTEN_FDS"].flatMap({ CInt($0) }), count > 0,
              count <= CInt.max - firstFD
        else {
            return []
        }
        let names = descriptorNames(environment["LISTEN_FDNAMES"], count: Int(count))
        return (0..<count).map { index in
            let fd = firstFD + index
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            return describe(fd: fd, name: names?[Int(index)])
        }
    }

    /// Unsets `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` so that child
    /// processes do not take them as theirs. Call it early, before other threads
    /// read the environment (`unsetenv` is not thread-safe).
    public static func removeVariablesFromEnvironment() {
        for name in variableNames {
            unsetenv(name)
        }
    }

    /// `LISTEN_FDNAMES` split at `:`, or `nil` when it does not name every descriptor.
    static func descriptorNames(_ text: String?, count: Int) -> [String]? {
        guard let text else { return nil }
        let names = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        return names.count == count ? names : nil
    }

    static func describe(fd: CInt, name: String?) -> InheritedSocket {
        guard socketType(fd) == CInt(SOCK_STREAM.rawValue), let family = socketFamily(fd) else {
            return InheritedSocket(fd: fd, kind: .unsupported, name: name, path: nil)
        }
        switch CInt(family) {
        case AF_INET, AF_INET6:
            return InheritedSocket(fd: fd, kind: .tcp, name: name, path: nil)
        case AF_UNIX:
            return InheritedSocket(fd: fd, kind: .unix, name: name, path: unixPath(fd))
        default:
            return InheritedSocket(fd: fd, kind: .unsupported, name: name, path: nil)
        }
    }

    private static func socketType(_ fd: CInt) -> CInt? {
        var type: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 ? type : nil
    }

    private static func socketFamily(_ fd: CInt) -> sa_family_t? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return result == 0 ? storage.ss_family : nil
    }

    /// The bound path of a unix socket; an abstract name is written `@name`;
    /// `nil` for an unnamed socket.
    private static func unixPath(_ fd: CInt) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
        let pathLength = min(Int(length) - pathOffset, UnixSocketAddress.capacity)
        guard pathLength > 0 else { return nil }
        let bytes = withUnsafeBytes(of: &address.sun_path) { Array($0.prefix(pathLength)) }
        if bytes.first == 0 {
            return "@" + String(decoding: bytes.dropFirst(), as: UTF8.self)
        }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}
