/// A listening socket passed in by systemd socket activation.
public struct InheritedSocket: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// An `AF_INET` or `AF_INET6` stream socket.
        case tcp
        /// An `AF_UNIX` stream socket.
        case unix
        /// Anything else (a datagram socket, a FIFO...): Sluice cannot serve on it.
        case unsupported
    }

    /// The file descriptor, `3` or above; close-on-exec is set.
    public var fd: CInt
    public var kind: Kind
    /// The name from `LISTEN_FDNAMES` (`FileDescriptorName=`, or the socket unit's name).
    public var name: String?
    /// For a unix socket bound to a path: that path.
    public var path: String?

    public init(fd: CInt, kind: Kind, name: String?, path: String?) {
        self.fd = fd
        self.kind = kind
        self.name = name
        self.path = path
    }
}
