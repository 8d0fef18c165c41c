import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// AsyncHTTPClient for tests: sends requests over TCP or a Unix socket and
/// hands back status, headers and body; the streaming variant stamps each body
/// part with its arrival time. One per test; `shutdown()` in tear-down.
final class TestHTTPClient: Sendable {
    private let client: HTTPClient
    /// No single request of the suite should take longer to get its head.
    let requestTimeout: TimeAmount

    /// - Parameter readTimeout: the longest silence while a body arrives (the
    ///   request deadline covers only the head).
    init(requestTimeout: TimeAmount = .seconds(15), readTimeout: TimeAmount = .seconds(15)) {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(2), read: readTimeout)
        // A refused connection should fail now, not be retried until the connect timeout:
        // the tests probe daemons that are starting or gone.
        configuration.connectionPool.retryConnectionEstablishment = false
        self.client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        self.requestTimeout = requestTimeout
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    func post(
        _ path: String, to endpoint: HTTPEndpoint, headers: [(String, String)] = [], body: Data
    ) async throws -> HTTPResult {
        try await send(.POST, path, to: endpoint, headers: headers, body: body)
    }

    func get(_ path: String, to endpoint: HTTPEndpoint, headers: [(String, String)] = []) async throws -> HTTPResult {
        try await send(.GET, path, to: endpoint, headers: headers)
    }

    /// Sends one request and collects the whole answer.
    func send(
        _ method: HTTPMethod,
        _ path: String,
        to endpoint: HTTPEndpoint,
        headers: [(String, String)] = [],
        body: Data? = nil
    ) async throws -> HTTPResult {
        let request = makeRequest(method, path, to: endpoint, headers: headers, body: body)
        let response = try await client.execute(request, timeout: requestTimeout)
        var collected = Data()
        for try await part in response.body {
            collected += Data(buffer: part)
        }
        return HTTPResult(status: Int(response.status.code), headers: response.headers, body: collected)
    }

    /// Sends one request and records every body part with the time it arrived.
    /// `stopAfter` hangs up (cancels the request) once that many parts have arrived.
    func stream(
        _ path: String,
        to endpoint: HTTPEndpoint,
        headers: [(String, String)] = [],
        body: Data,
        stopAfter partLimit: Int? = nil
    ) async throws -> StreamedResult {
        let request = makeRequest(.POST, path, to: endpoint, headers: headers, body: body)
        let sent = ContinuousClock.now
        let response = try await client.execute(request, timeout: requestTimeout)
        var chunks: [StreamedResult.Chunk] = []
        for try await part in response.body {
            chunks.append(.init(arrival: .now, bytes: Data(buffer: part)))
            if let partLimit, chunks.count >= partLimit {
                // Leaving the loop drops the body; AsyncHTTPClient then cancels the request
                // and closes the connection, which is what a client hanging up looks like.
                break
            }
        }
        return StreamedResult(status: Int(response.status.code), headers: response.headers, sent: sent, chunks: chunks)
    }

    private func makeRequest(
        _ method: HTTPMethod, _ path: String, to endpoint: HTTPEndpoint, headers: [(String, String)], body: Data?
    ) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: endpoint.url(path))
        request.method = method
        for (name, value) in headers {
            request.headers.add(name: name, value: value)
        }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                request.headers.add(name: "content-type", value: "application/json")
            }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }
}
