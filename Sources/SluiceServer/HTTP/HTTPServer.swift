import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

/// Where the daemon listens.
public enum ListenAddress: Sendable, Equatable, CustomStringConvertible {
    case tcp(HostAndPort)
    case unix(path: String)
    /// A socket inherited from systemd socket activation.
    case inherited(fd: CInt, label: String, transport: RequestTransport)

    /// Which kind of socket requests arrive on (browsers reach only TCP).
    public var transport: RequestTransport {
        switch self {
        case .tcp: .tcp
        case .unix: .unixSocket
        case .inherited(_, _, let transport): transport
        }
    }

    public var description: String {
        switch self {
        case .tcp(let address): return "tcp \(address)"
        case .unix(let path): return "unix \(path)"
        case .inherited(let fd, let label, _): return "inherited fd \(fd) (\(label))"
        }
    }
}

/// One bound listener and what it needs to drain.
struct BoundListener: Sendable {
    let address: ListenAddress
    let channel: any Channel
    let quiescing: ServerQuiescingHelper
    /// The socket file this daemon created and must remove on exit.
    let ownedSocketPath: String?
}

/// Binds HTTP/1.1 listeners that all answer with one responder.
struct HTTPListenerFactory: Sendable {
    let group: any EventLoopGroup
    let responder: any HTTPResponder
    let maxBodyBytes: Int
    /// See `IdleConnectionHandler`; also how long one write to a client may stay pending.
    let idleTimeout: TimeAmount
    /// Shared by every listener this factory binds.
    let connections: ConnectionLimiter

    init(
        group: any EventLoopGroup, responder: any HTTPResponder, maxBodyBytes: Int,
        idleTimeout: Duration = .seconds(60), maxConnections: Int = 4096
    ) {
        self.group = group
        self.responder = responder
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = TimeAmount(idleTimeout)
        self.connections = ConnectionLimiter(maximum: maxConnections)
    }

    func bind(_ address: ListenAddress) async throws -> BoundListener {
        let quiescing = ServerQuiescingHelper(group: group)
        let bootstrap = makeBootstrap(quiescing: quiescing, transport: address.transport)
        switch address {
        case .tcp(let hostAndPort):
            let channel = try await bootstrap
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: hostAndPort.host, port: hostAndPort.port).get()
            return BoundListener(address: address, channel: channel, quiescing: quiescing, ownedSocketPath: nil)
        case .unix(let path):
            try UnixSocketFile.prepare(path: path)
            let channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false).get()
            try UnixSocketFile.setMode(path: path, mode: 0o660)
            return BoundListener(address: address, channel: channel, quiescing: quiescing, ownedSocketPath: path)
        case .inherited(let fd, _, _):
            let channel = try await bootstrap.withBoundSocket(fd).get()
            return BoundListener(address: address, channel: channel, quiescing: quiescing, ownedSocketPath: nil)
        }
    }

    private func makeBootstrap(quiescing: ServerQuiescingHelper, transport: RequestTransport) -> ServerBootstrap {
        let responder = self.responder
        let maxBodyBytes = self.maxBodyBytes
        let idleTimeout = self.idleTimeout
        let connections = self.connections
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    guard connections.admit(channel) else {
                        try sync.addHandler(ConnectionRefusalHandler())
                        return
                    }
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(IdleConnectionHandler(timeout: idleTimeout))
                    try sync.addHandler(HTTPRequestHandler(
                        responder: responder, maxBodyBytes: maxBodyBytes, transport: transport, writeTimeout: idleTimeout))
                }
            }
    }
}

/// Errors binding a listener, worded for the person starting the daemon.
public struct ListenerError: Error, CustomStringConvertible {
    public let description: String
}

/// The Unix socket file: refuse a live one, replace a stale one, set its mode.
enum UnixSocketFile {
    static func prepare(path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }  // nothing there
        guard (status.st_mode & S_IFMT) == S_IFSOCK else {
            throw ListenerError(description: "unix socket \(path): a file that is not a socket is in the way")
        }
        if isAcceptingConnections(path: path) {
            throw ListenerError(description: "unix socket \(path) is in use by another process (is another sluice running?)")
        }
        // Left behind by a process that died: safe to replace.
        unlink(path)
    }

    static func setMode(path: String, mode: mode_t) throws {
        guard chmod(path, mode) == 0 else {
            throw ListenerError(description: "unix socket \(path): cannot set mode \(String(mode, radix: 8)) (errno \(errno))")
        }
    }

    static func remove(path: String) {
        unlink(path)
    }

    /// Whether something listens on the socket: a connect succeeds.
    private static func isAcceptingConnections(path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}
