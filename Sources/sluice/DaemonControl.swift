#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Talks to a running `sluice serve` over its Unix socket: one blocking
/// HTTP/1.1 request, for commands that must act through the daemon (a purge
/// must also empty the daemon's memory).
enum DaemonControl {
    /// The daemon's answer: status and body.
    struct Answer {
        var status: Int
        var body: [UInt8]
    }

    /// Why the request got no answer, in one line for stderr.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends `POST path` with a JSON `body` to the daemon listening on
    /// `socketPath`; `nil` when no daemon listens there (no socket file, or
    /// nobody accepting on it). Gives up after `timeout` seconds.
    static func post(_ path: String, json body: [UInt8], socketPath: String, timeout: Int = 10) throws(Failure) -> Answer? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !pathBytes.isEmpty, pathBytes.count < capacity, !pathBytes.contains(0) else {
            throw Failure(description: "unix socket path \(socketPath) is longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }

        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw failure("cannot create a socket", socketPath) }
        defer { close(descriptor) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            setsockopt(descriptor, SOL_SOCKET, option, &limit, socklen_t(MemoryLayout<timeval>.size))
        }

        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if connected != 0 {
            if errno == ENOENT || errno == ECONNREFUSED { return nil }
            throw failure("cannot reach the daemon", socketPath)
        }

        let head = "POST \(path) HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n"
            + "content-length: \(body.count)\r\nconnection: close\r\n\r\n"
        try sendAll(Array(head.utf8) + body, descriptor, socketPath)
        return try parse(receiveAll(descriptor, socketPath), socketPath)
    }

    private static func sendAll(_ bytes: [UInt8], _ descriptor: Int32, _ socketPath: String) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                throw failure("cannot send the request to the daemon", socketPath)
            }
            offset += sent
        }
    }

    /// Reads until the daemon closes the connection (the request asked for that).
    private static func receiveAll(_ descriptor: Int32, _ socketPath: String) throws(Failure) -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { return received }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw Failure(description: "the daemon at \(socketPath) did not answer in time")
                }
                throw failure("cannot read the daemon's answer", socketPath)
            }
            received.append(contentsOf: chunk[..<count])
        }
    }

    /// The status and body of a whole HTTP/1.1 answer sent with `content-length`.
    private static func parse(_ bytes: [UInt8], _ socketPath: String) throws(Failure) -> Answer {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard bytes.count >= separator.count,
              let end = (0...(bytes.count - separator.count)).first(where: { bytes[$0...].starts(with: separator) }),
              let head = String(validating: bytes[..<end], as: UTF8.self)
        else {
            throw Failure(description: "the daemon at \(socketPath) sent an incomplete answer")
        }
        let statusLine = head.split(separator: "\r\n", maxSplits: 1).first ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw Failure(description: "the daemon at \(socketPath) sent an answer that is not HTTP")
        }
        var body = Array(bytes[(end + separator.count)...])
        for line in head.split(separator: "\r\n").dropFirst() {
            let field = line.split(separator: ":", maxSplits: 1)
            if field.count == 2, field[0].lowercased() == "content-length",
               let length = Int(field[1].trimmingPrefix(" ")) {
                guard body.count >= length else {
                    throw Failure(description: "the daemon at \(socketPath) sent an incomplete answer")
                }
                body = Array(body.prefix(length))
            }
        }
        return Answer(status: status, body: body)
    }

    private static func failure(_ what: String, _ socketPath: String) -> Failure {
        Failure(description: "\(what) at \(socketPath): \(String(cString: strerror(errno)))")
    }
}
