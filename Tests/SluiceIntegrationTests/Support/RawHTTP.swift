import Foundation
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request written byte for byte on a fresh connection, for what
/// AsyncHTTPClient will not send: a `Host` of the test's choosing, or none at
/// all. The request asks for `connection: close`; the answer is read to EOF.
/// The blocking socket work runs on a Dispatch thread, not the cooperative pool.
enum RawHTTP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends `method path` to `endpoint` with exactly `headers` (plus
    /// `content-length` when there is a body, and `connection: close`).
    /// `host: nil` sends no `Host` header.
    static func send(
        _ method: String,
        _ path: String,
        to endpoint: HTTPEndpoint,
        host: String?,
        headers: [(String, String)] = [],
        body: Data? = nil,
        timeout: Duration = .seconds(10)
    ) async throws -> HTTPResult {
        var head = "\(method) \(path) HTTP/1.1\r\n"
        if let host { head += "host: \(host)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                head += "content-type: application/json\r\n"
            }
            head += "content-length: \(body.count)\r\n"
        }
        head += "connection: close\r\n\r\n"
        let request = Data(head.utf8) + (body ?? Data())
        let seconds = Int(timeout.components.seconds)
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try exchange(request, with: endpoint, timeoutSeconds: seconds) })
            }
        }
    }

    private static func exchange(_ request: Data, with endpoint: HTTPEndpoint, timeoutSeconds: Int) throws -> HTTPResult {
        let descriptor = try connect(to: endpoint)
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        try request.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var sent = 0
            while sent < bytes.count {
                let written = Glibc.send(descriptor, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
                guard written > 0 else { throw Failure(description: "send to \(endpoint) failed: errno \(errno)") }
                sent += written
            }
        }

        var answer = Data()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count == 0 { break }
            guard count > 0 else {
                throw Failure(description: "no complete answer from \(endpoint) within \(timeoutSeconds) s (errno \(errno)); got \(answer.count) bytes")
            }
            answer.append(contentsOf: buffer[0..<count])
        }
        return try parse(answer)
    }

    private static func connect(to endpoint: HTTPEndpoint) throws -> Int32 {
        switch endpoint {
        case .tcp(let host, let port):
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr(host)
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard connected else {
                close(descriptor)
                throw Failure(description: "could not connect to \(endpoint): errno \(errno)")
            }
            return descriptor
        case .unixSocket(let path):
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
            guard let address = try? SocketAddressUnix(path: path),
                  address.withSockAddr({ Glibc.connect(descriptor, $0, $1) == 0 }) else {
                close(descriptor)
                throw Failure(description: "could not connect to \(endpoint): errno \(errno)")
            }
            return descriptor
        }
    }

    /// Status line, headers, and a body framed by content-length, chunks or EOF.
    static func parse(_ answer: Data) throws -> HTTPResult {
        let separator = Data("\r\n\r\n".utf8)
        guard let end = answer.range(of: separator) else {
            throw Failure(description: "no complete answer head in \(String(decoding: answer, as: UTF8.self))")
        }
        let lines = String(decoding: answer[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw Failure(description: "not an HTTP status line: \(lines[0])")
        }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body = Data(answer[end.upperBound...])
        if headers.first(name: "transfer-encoding")?.lowercased().contains("chunked") == true {
            body = try dechunk(body)
        } else if let length = headers.first(name: "content-length").flatMap(Int.init), body.count > length {
            body = body.prefix(length)
        }
        return HTTPResult(status: status, headers: headers, body: body)
    }

    private static func dechunk(_ data: Data) throws -> Data {
        var rest = data[...]
        var body = Data()
        let lineEnd = Data("\r\n".utf8)
        while let sizeEnd = rest.range(of: lineEnd) {
            let sizeText = String(decoding: rest[..<sizeEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw Failure(description: "bad chunk size \(sizeText)")
            }
            if size == 0 { return body }
            let start = sizeEnd.upperBound
            guard rest.distance(from: start, to: rest.endIndex) >= size else { break }
            let stop = rest.index(start, offsetBy: size)
            body.append(rest[start..<stop])
            rest = rest[stop...].dropFirst(2)
        }
        throw Failure(description: "chunked body ended early")
    }
}
