import NIOCore
import NIOHTTP1

/// A whole request as received from a client: head and complete body.
///
/// Bodies are read whole (up to `max_body`) because every route Sluice acts on
/// needs the complete JSON; answers, not requests, are what gets streamed.
struct IncomingRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
    /// Monotonic arrival time, for latencies.
    var receivedAt: ContinuousClock.Instant
    /// The listener it came in on.
    var transport: RequestTransport

    var method: HTTPMethod { head.method }

    /// The path without the query string.
    var path: Substring {
        let uri = head.uri[...]
        return uri.firstIndex(of: "?").map { uri[..<$0] } ?? uri
    }

    /// The query string including its `?`, or empty.
    var query: Substring {
        let uri = head.uri[...]
        return uri.firstIndex(of: "?").map { uri[$0...] } ?? ""
    }
}

/// The kind of listener a request came in on. Browsers reach only TCP, so the
/// web access checks (`WebAccessPolicy`) apply there and not on the Unix socket.
public enum RequestTransport: Sendable, Equatable {
    case tcp
    case unixSocket
}
