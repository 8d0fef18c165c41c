import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceStore

// The values a request carries between the pipeline's stages.

/// What the synchronous stages learned about a request.
struct PreparedRequest: Sendable {
    var route: ProxyRoute
    /// How it authenticates upstream.
    var upstreamAuth: UpstreamAuth
    var body: ParsedBody
    var directives: CacheDirectives
    /// Nil when the request is not cacheable.
    var cacheKey: CacheKey?
    /// A fresh stored answer, when the lookup found one.
    var hit: CachedResponse?
    /// Where the request's task runs: its connection's event loop.
    var taskExecutor: EventLoopTaskExecutor?
}

/// Which upstream failures `cache.stale_if_error` covers: unreachable (502),
/// timed out (504), a 5xx answer, or 429.
enum UpstreamFailure {
    static func allowsStaleAnswer(status: Int) -> Bool {
        status == 429 || (500...599).contains(status)
    }
}

/// How a request authenticates upstream.
struct UpstreamAuth: Sendable {
    /// The bearer to send: the client's or the daemon's; nil sends none (the
    /// client's own `x-api-key` goes instead).
    var bearer: String?
    /// Whether the client's `x-api-key` header goes upstream (pass-through), or
    /// is dropped (keys mode: it is a key of this Sluice, not of the gateway).
    var keepsClientAPIKey: Bool
}

/// The request body, parsed where it is JSON.
struct ParsedBody: Sendable {
    var document: JSONValue?
    var summary: RequestSummary
}

/// What one upstream call gives the identical requests that share it.
enum SharedAnswer: Sendable {
    case whole(UpstreamAnswer)
    /// Past `ProxyPipeline.maxStoredAnswerBytes`: see `OversizedAnswer`.
    case oversized(OversizedAnswer)
    /// Fleet mode: another daemon's answer, stored while this one waited (see `FleetFlights`).
    case storedByFleet(CachedResponse)
}

/// A request let through by the rate limiter, with the headers to answer with,
/// and what its key's budget said (misses only): one value, settled once.
struct Admission: Sendable {
    var reservation: RateLimitReservation
    var headers: [(String, String)]
    /// Nil until the budget stage has run (and for hits, which never reach it).
    var budget: BudgetGuard.Decision?
}

/// What is known about a cache entry before its answer arrives.
struct CacheEntryTemplate: Sendable {
    var key: CacheKey
    var keyID: String
    var model: String?
    var route: String
    var ttlSeconds: Double

    func entry(for answer: UpstreamAnswer, now: Double) -> CachedResponse {
        let body = Array(answer.body.readableBytesView)
        return CachedResponse(
            key: key.hex, keyID: keyID, model: model, route: route, status: Int(answer.status.code),
            contentType: answer.headers.first(name: "content-type") ?? "application/json",
            body: body, createdAt: now, expiresAt: now + ttlSeconds, usage: answer.usage)
    }
}
