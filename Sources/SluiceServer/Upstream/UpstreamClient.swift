import AsyncHTTPClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SluiceCore

/// A request on its way upstream.
struct UpstreamRequest: Sendable {
    var method: HTTPMethod
    /// Path below the upstream base URL, e.g. `/chat/completions`, with any query.
    var pathAndQuery: String
    var headers: HTTPHeaders
    var body: ByteBuffer
    /// The bearer to send; nil sends none.
    var bearer: String?
    /// The model API asked, which reads the answer's usage; nil for other routes.
    var api: (any LLMAPI)?
}

/// A complete upstream answer, read whole.
struct UpstreamAnswer: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer
    /// How long the call took, head and body.
    var duration: Duration
    /// The answer's `usage`, read once when the body arrives.
    var usage: TokenUsage?
}

/// What `UpstreamClient.fetch` read.
enum UpstreamFetch {
    /// The whole answer, within the limit.
    case whole(UpstreamAnswer)
    /// Past the limit: what was read so far and the rest, to relay.
    case oversized(UpstreamBodyStream)
}

/// The one connection pool to the gateway (HTTP/1.1 keep-alive, HTTP/2 over TLS).
final class UpstreamClient: Sendable {
    private let client: HTTPClient
    private let baseURL: String
    private let timeout: Duration
    private let currentIdentity: NIOLockedValueBox<UpstreamIdentity>
    /// Told when connections fail (502 unreachable) and when answers come again.
    private let health: HealthMonitor?

    init(eventLoopGroup: any EventLoopGroup, baseURL: String, timeout: Duration, identity: UpstreamIdentity, health: HealthMonitor? = nil) {
        var configuration = HTTPClient.Configuration()
        // AsyncHTTPClient retries a refused connection until the connect timeout:
        // keep it short so an unreachable upstream is a prompt 502.
        configuration.timeout = .init(connect: .seconds(3), read: TimeAmount(timeout))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        configuration.httpVersion = .automatic
        self.client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
        self.baseURL = baseURL
        self.timeout = timeout
        self.currentIdentity = NIOLockedValueBox(identity)
        self.health = health
    }

    /// The daemon's credential and attribution as they stand now.
    var identity: UpstreamIdentity { currentIdentity.withLockedValue { $0 } }

    /// Uses a re-read credential from now on (SIGHUP: a rotated key or OIDC token).
    func replaceIdentity(_ identity: UpstreamIdentity) {
        currentIdentity.withLockedValue { $0 = identity }
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    /// Sends a request and returns as soon as the answer's head arrives; the
    /// body is read by the caller (streaming).
    func send(_ request: UpstreamRequest) async throws(SluiceError) -> HTTPClientResponse {
        var outgoing = HTTPClientRequest(url: baseURL + request.pathAndQuery)
        outgoing.method = request.method
        outgoing.headers = request.headers
        if let bearer = request.bearer {
            outgoing.headers.replaceOrAdd(name: "authorization", value: "Bearer \(bearer)")
        }
        let identity = self.identity
        if let siteURL = identity.attribution.siteURL, !outgoing.headers.contains(name: "http-referer") {
            outgoing.headers.add(name: "http-referer", value: siteURL)
        }
        if let appName = identity.attribution.appName, !outgoing.headers.contains(name: "x-title") {
            outgoing.headers.add(name: "x-title", value: appName)
        }
        if request.body.readableBytes > 0 || request.method == .POST {
            outgoing.body = .bytes(request.body)
        }
        do {
            // The read timeout bounds silence between bytes; the overall deadline is generous so
            // that a long stream that keeps sending is never cut.
            let response = try await client.execute(outgoing, timeout: .hours(24))
            health?.upstreamSucceeded()
            return response
        } catch {
            let mapped = mapError(error)
            if mapped.code == "upstream_unreachable" { health?.upstreamFailed(mapped.message) }
            throw mapped
        }
    }

    /// Sends a request and reads the answer whole if it is at most `limit`
    /// bytes; a larger one comes back part-read, to be relayed as it arrives.
    /// Usage is scanned as the bytes arrive, never parsed into a tree.
    func fetch(_ request: UpstreamRequest, upTo limit: Int) async throws(SluiceError) -> UpstreamFetch {
        let started = ContinuousClock.now
        let response = try await send(request)
        var iterator = response.body.makeAsyncIterator()
        var scanner = AnswerUsageScanner(contentType: response.headers.first(name: "content-type"), api: request.api)
        var body = ByteBuffer()
        do {
            while var chunk = try await iterator.next() {
                scanner.consume(chunk)
                if body.readableBytes + chunk.readableBytes > limit {
                    body.writeBuffer(&chunk)
                    return .oversized(UpstreamBodyStream(
                        response: response, started: started, prefix: body, iterator: iterator, usageScanner: scanner))
                }
                if body.readableBytes == 0 {
                    body = chunk
                } else {
                    body.writeBuffer(&chunk)
                }
            }
        } catch {
            throw mapError(error)
        }
        return .whole(UpstreamAnswer(
            status: response.status, headers: response.headers, body: body, duration: .now - started, usage: scanner.usage))
    }

    /// Turns a transport failure into the answer the client gets (502 or 504).
    func mapError(_ error: any Error) -> SluiceError {
        if let sluiceError = error as? SluiceError { return sluiceError }
        if error is CancellationError {
            return .clientClosed
        }
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .readTimeout, .deadlineExceeded:
                return .upstreamTimeout(seconds: Int(timeout.components.seconds))
            case .connectTimeout:
                return .upstreamUnreachable("connection timed out")
            case .remoteConnectionClosed:
                return .upstreamUnreachable("the connection was closed before the answer was complete")
            case .cancelled:
                return .clientClosed
            default:
                return .upstreamUnreachable(String(describing: clientError))
            }
        }
        return .upstreamUnreachable(Self.describe(error))
    }

    private static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("connectionReset") || text.contains("reset by peer") { return "connection reset" }
        return text.count > 200 ? String(text.prefix(200)) : text
    }
}

extension TimeAmount {
    /// Saturates at about 292 years rather than trapping on overflow (settings
    /// are bounded well below that; this is the last line of defence).
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (nanoseconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else {
            self = .nanoseconds(seconds < 0 ? .min : .max)
            return
        }
        let (total, sumOverflow) = nanoseconds.addingReportingOverflow(attoseconds / 1_000_000_000)
        self = .nanoseconds(sumOverflow ? (seconds < 0 ? .min : .max) : total)
    }
}
