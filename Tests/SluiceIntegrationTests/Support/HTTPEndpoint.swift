import AsyncHTTPClient
import Foundation

/// Which listener of the daemon a request goes to.
enum Transport: String, CaseIterable, Sendable {
    case tcp
    case unixSocket
}

/// Where an HTTP server listens: a TCP address or a Unix socket file.
enum HTTPEndpoint: Sendable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unixSocket(path: String)

    /// The URL AsyncHTTPClient needs for `path` (which may carry a query).
    func url(_ path: String) -> String {
        switch self {
        case .tcp(let host, let port):
            return "http://\(host):\(port)\(path)"
        case .unixSocket(let socketPath):
            // `http+unix://` with the socket path percent-encoded as the host.
            return URL(httpURLWithSocketPath: socketPath, uri: path)?.absoluteString ?? "http+unix://invalid\(path)"
        }
    }

    var description: String {
        switch self {
        case .tcp(let host, let port): "tcp \(host):\(port)"
        case .unixSocket(let path): "unix \(path)"
        }
    }
}
