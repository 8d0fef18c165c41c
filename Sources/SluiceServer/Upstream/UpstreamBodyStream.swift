import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SluiceCore

/// An upstream answer whose head has arrived and whose body is read as it
/// comes: relayed to the client chunk by chunk, never held whole. Its usage is
/// scanned on the way.
struct UpstreamBodyStream {
    let status: HTTPResponseStatus
    let headers: HTTPHeaders
    /// When the request went upstream.
    let started: ContinuousClock.Instant
    /// Bytes already read (by `UpstreamClient.fetch` before it gave up holding the answer).
    private(set) var prefix: ByteBuffer?
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private(set) var usageScanner: AnswerUsageScanner

    /// - Parameter api: the model API that answers, which reads its usage; nil for other routes.
    init(response: HTTPClientResponse, started: ContinuousClock.Instant, api: (any LLMAPI)?) {
        self.init(response: response, started: started, prefix: nil, iterator: response.body.makeAsyncIterator(),
                  usageScanner: AnswerUsageScanner(contentType: response.headers.first(name: "content-type"), api: api))
    }

    init(
        response: HTTPClientResponse, started: ContinuousClock.Instant, prefix: ByteBuffer?,
        iterator: HTTPClientResponse.Body.AsyncIterator, usageScanner: AnswerUsageScanner
    ) {
        self.status = response.status
        self.headers = response.headers
        self.started = started
        self.prefix = prefix
        self.iterator = iterator
        self.usageScanner = usageScanner
    }

    /// The next part of the body (the bytes read ahead first), or nil at its end.
    /// Parts read here are scanned for usage; the prefix was scanned already.
    mutating func next() async throws -> ByteBuffer? {
        if let prefix {
            self.prefix = nil
            return prefix
        }
        guard let chunk = try await iterator.next() else { return nil }
        usageScanner.consume(chunk)
        return chunk
    }
}

/// An answer too large to store or to share with identical requests in
/// flight: exactly one of them relays it (whoever claims it first); the others
/// ask upstream themselves.
final class OversizedAnswer: @unchecked Sendable {
    // The stream is handed out once, under the lock, and then used by one task only.
    private let stream: NIOLockedValueBox<UpstreamBodyStream?>

    init(_ stream: UpstreamBodyStream) {
        self.stream = NIOLockedValueBox(stream)
    }

    /// The answer's stream, for the first caller only.
    func claim() -> UpstreamBodyStream? {
        stream.withLockedValue { stream in
            defer { stream = nil }
            return stream
        }
    }
}
