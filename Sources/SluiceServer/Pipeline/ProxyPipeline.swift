import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceStore

/// The request path of the daemon, as stages: route → authenticate → read the
/// body → cache lookup → rate limit and budget → coalesce → forward → store →
/// settle → record.
///
/// Each stage is a small method; the state a request accumulates on its way is
/// its `RequestRecord`, which becomes its usage row at the end, whatever happened.
final class ProxyPipeline: HTTPResponder {
    struct Components: Sendable {
        var upstream: UpstreamClient
        var cache: ResponseCache
        var limiter: any RequestLimiter
        var budgets: BudgetGuard
        var recorder: UsageRecorder
        var metrics: SluiceMetrics
        var health: HealthMonitor
        var clock: any WallClock
        var logger: Logger
        /// Fleet mode: one upstream call for identical requests across the fleet.
        var fleetFlights: FleetFlights?
    }

    let components: Components
    let cacheSettings: CacheSettings
    let maxBodyBytes: Int
    private let keyRegistry: NIOLockedValueBox<ClientKeyRegistry>
    let webAccessPolicy: NIOLockedValueBox<WebAccessPolicy>
    let coalescer = RequestCoalescer<CacheKey, SharedAnswer>()
    let sharedStreams = SharedStreams(retainLimit: ProxyPipeline.maxStoredAnswerBytes, lagLimit: 1 << 20)
    let inFlight = InFlightRequests()
    private let taskExecutors = EventLoopTaskExecutors()

    init(
        components: Components, cacheSettings: CacheSettings, maxBodyBytes: Int, keys: ClientKeyRegistry,
        webAccess: WebAccessPolicy = WebAccessPolicy()
    ) {
        self.components = components
        self.cacheSettings = cacheSettings
        self.maxBodyBytes = maxBodyBytes
        self.keyRegistry = NIOLockedValueBox(keys)
        self.webAccessPolicy = NIOLockedValueBox(webAccess)
    }

    /// Swaps the accepted client keys (SIGHUP).
    func replaceKeys(_ registry: ClientKeyRegistry) {
        keyRegistry.withLockedValue { $0 = registry }
    }

    /// Swaps the allowed hosts and origins (SIGHUP).
    func replaceWebAccess(_ policy: WebAccessPolicy) {
        webAccessPolicy.withLockedValue { $0 = policy }
    }

    var keys: ClientKeyRegistry { keyRegistry.withLockedValue { $0 } }

    // MARK: HTTPResponder

    func respond(to request: IncomingRequest, writer: ResponseWriter) -> InFlightRequest? {
        guard admitsWebAccess(request, writer: writer) else { return nil }
        switch request.path {
        case "/healthz":
            writer.send(status: .ok, headers: Self.jsonHeaders, body: ByteBuffer(string: components.health.healthzBody))
            return nil
        case "/metrics":
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: SluiceMetrics.contentType)
            writer.send(status: .ok, headers: headers, body: ByteBuffer(bytes: components.metrics.render()))
            return nil
        case "/sluice/cache/purge" where request.transport == .unixSocket:
            return respondToCachePurge(request, writer: writer)
        default:
            break
        }
        let route = ProxyRoute(path: request.path)
        var record = RequestRecord(
            receivedAt: request.receivedAt, timestamp: components.clock.now(),
            route: route?.recordedName ?? String(request.path.prefix(64)), requestBytes: request.body.readableBytes)
        components.metrics.requestStarted()
        guard let route, route.accepts(request.method) else {
            record.keyID = clientKeyID(request.head.headers)
            fail(route == nil ? .notFound(path: String(request.path)) : .methodNotAllowed(), writer: writer, record: &record)
            complete(record, method: request.method, writer: writer)
            return nil
        }
        // Small bodies are prepared here, on the event loop: a cache hit is then
        // answered without leaving it. Large ones are parsed off the loop.
        var prepared: PreparedRequest?
        if request.body.readableBytes <= Self.inlineBodyLimit {
            do {
                let ready = try prepare(request, route: route, record: &record)
                if let hit = ready.hit, answerHitWithoutWaiting(hit, writer: writer, record: &record) {
                    complete(record, method: request.method, writer: writer)
                    return nil
                }
                prepared = ready
                prepared?.taskExecutor = taskExecutors.executor(for: writer.eventLoop)
            } catch {
                fail(error, writer: writer, record: &record)
                complete(record, method: request.method, writer: writer)
                return nil
            }
        }
        let requestID = inFlight.begin()
        // A prepared request continues on its connection's event loop (see
        // EventLoopTaskExecutor); a large body is parsed on the shared pool.
        let task = Task(executorPreference: prepared?.taskExecutor) { [self, record, prepared] in
            defer { inFlight.end(requestID) }
            var record = record
            do throws(SluiceError) {
                let ready: PreparedRequest
                if let prepared {
                    ready = prepared
                } else {
                    ready = try prepare(request, route: route, record: &record)
                }
                try await proxy(request, prepared: ready, writer: writer, record: &record)
            } catch {
                fail(error, writer: writer, record: &record)
            }
            complete(record, method: request.method, writer: writer)
        }
        inFlight.attach(task, to: requestID)
        return InFlightRequest(task: task)
    }

    func rejectBodyTooLarge(
        head: HTTPRequestHead, receivedAt: ContinuousClock.Instant, transport: RequestTransport, writer: ResponseWriter
    ) {
        let request = IncomingRequest(head: head, body: ByteBuffer(), receivedAt: receivedAt, transport: transport)
        guard admitsWebAccess(request, writer: writer) else { return }
        var record = RequestRecord(
            receivedAt: receivedAt, timestamp: components.clock.now(),
            route: ProxyRoute(path: request.path)?.recordedName ?? String(request.path.prefix(64)), requestBytes: 0)
        record.keyID = clientKeyID(head.headers)
        components.metrics.requestStarted()
        fail(.bodyTooLarge(limitBytes: maxBodyBytes), writer: writer, record: &record)
        complete(record, method: head.method, writer: writer)
    }

    /// Bodies up to this size are parsed on the event loop.
    static let inlineBodyLimit = 64 * 1024

    // MARK: The proxy stages

    /// The synchronous stages: authenticate, read the body, compute the cache key, look it up.
    private func prepare(_ request: IncomingRequest, route: ProxyRoute, record: inout RequestRecord) throws(SluiceError) -> PreparedRequest {
        let upstreamAuth = try authenticate(request.head.headers, record: &record)
        let body = try readBody(request, route: route, record: &record)
        guard let upstreamAuth else { throw .noUpstreamCredential() }
        let directives = CacheDirectives(headerValue: request.head.headers["cache-control"].joined(separator: ","))
        let cacheKey = cacheKey(route: route, query: request.query, body: body, keyID: record.keyID, directives: directives)
        var hit: CachedResponse?
        if let cacheKey, !directives.skipsLookup {
            hit = components.cache.lookup(key: cacheKey, maxAge: directives.maxAge)
                .flatMap { shaped($0, route: route, summary: body.summary) }
        }
        return PreparedRequest(route: route, upstreamAuth: upstreamAuth, body: body, directives: directives, cacheKey: cacheKey, hit: hit)
    }

    /// The lookup's second half, for a cache read asynchronously (a fleet's
    /// PostgreSQL): `prepare` could only look in memory.
    private func lookupInBackend(_ prepared: PreparedRequest) async -> CachedResponse? {
        guard components.cache.needsAsyncLookups, let cacheKey = prepared.cacheKey, !prepared.directives.skipsLookup else { return nil }
        return await components.cache.lookupInBackend(key: cacheKey, maxAge: prepared.directives.maxAge)
            .flatMap { shaped($0, route: prepared.route, summary: prepared.body.summary) }
    }

    /// Answers a hit at once when the rate limiter decides without waiting.
    private func answerHitWithoutWaiting(_ hit: CachedResponse, writer: ResponseWriter, record: inout RequestRecord) -> Bool {
        guard let decision = components.limiter.acquireWithoutWaiting(keyID: record.keyID, estimatedTokens: 0) else {
            return false
        }
        switch decision {
        case .allowed(_, let headers):
            serveHit(hit, limitHeaders: headers.fields, writer: writer, record: &record)
        case .refused(let retryAfterSeconds, let headers):
            components.metrics.recordRateLimited(keyID: record.keyID)
            fail(.rateLimited(retryAfterSeconds: retryAfterSeconds, headers: headers.fields), writer: writer, record: &record)
        case .tooLarge:
            return false  // not reachable for a hit, which asks for no tokens
        }
        return true
    }

    /// The asynchronous stages: admit, coalesce, forward, store, settle.
    private func proxy(
        _ request: IncomingRequest, prepared: PreparedRequest, writer: ResponseWriter, record: inout RequestRecord
    ) async throws(SluiceError) {
        var prepared = prepared
        if prepared.hit == nil {
            prepared.hit = await lookupInBackend(prepared)
        }
        if let hit = prepared.hit {
            // A hit reserves no tokens, so it has nothing to settle.
            let limitHeaders = try await admit(keyID: record.keyID, estimatedTokens: 0, record: &record).headers
            serveHit(hit, limitHeaders: limitHeaders, writer: writer, record: &record)
            return
        }
        let estimate = TokenEstimator.estimate(body: Array(request.body.readableBytesView), maxTokens: prepared.body.summary.maxTokens)
        var admission = try await admit(keyID: record.keyID, estimatedTokens: estimate, record: &record)
        // Misses only: a hit costs nothing and is served whatever the key has spent.
        admission.budget = components.budgets.admit(
            keyID: record.keyID, model: prepared.body.summary.model,
            bodyBytes: request.body.readableBytes, maxTokens: prepared.body.summary.maxTokens)
        let forwarded: Result<Forwarded, SluiceError>
        if case .refused(let error) = admission.budget {
            components.metrics.recordBudgetRefusal(keyID: record.keyID)
            forwarded = .failure(error)  // nothing goes upstream; both reservations settle at 0 below
        } else {
            forwarded = await forward(request, prepared: prepared, admission: admission, writer: writer, record: &record)
        }
        // The one place a reservation is settled, whatever happened upstream.
        settle(admission, record: record, estimate: estimate)
        let limitHeaders = components.limiter.headers(for: record.keyID).fields
        switch forwarded {
        case .success(.answer(let answer)):
            sendAnswer(answer, limitHeaders: limitHeaders, writer: writer, record: &record)
        case .success(.storedMeanwhile(let hit)):
            serveHit(hit, limitHeaders: limitHeaders, writer: writer, record: &record)
        case .success(.stale(let entry)):
            serveHit(entry, as: .stale, limitHeaders: limitHeaders, writer: writer, record: &record)
        case .success(.storedByFleet(let entry)):
            serveHit(entry, as: .coalesced, limitHeaders: limitHeaders, writer: writer, record: &record)
        case .success(.relayed):
            break
        case .failure(let error):
            throw error
        }
    }

    /// Settles the rate-limit and budget reservations of `admission` against
    /// what `record` says the request spent upstream: its tokens, and its reported
    /// cost (`usage.cost`; nothing for a hit, a shared answer, an error without
    /// usage or a request that never went upstream).
    private func settle(_ admission: Admission, record: RequestRecord, estimate: Int) {
        components.limiter.settle(admission.reservation, actualTokens: record.tokensSpentUpstream(estimate: estimate))
        guard case .allowed(let reservation) = admission.budget else { return }
        let left = components.budgets.settle(reservation, actualCost: record.usage?.cost)
        if let day = left.day { components.metrics.setBudgetRemaining(keyID: record.keyID, window: "day", usd: day) }
        if let month = left.month { components.metrics.setBudgetRemaining(keyID: record.keyID, window: "month", usd: month) }
    }

    /// What forwarding an admitted request led to.
    enum Forwarded {
        /// A whole answer, to send now (after settlement, so its limit headers are current).
        case answer(UpstreamAnswer)
        /// An identical request, ahead in the `max_wait` queue, stored its answer meanwhile.
        case storedMeanwhile(CachedResponse)
        /// Already relayed to the client as it arrived (a stream).
        case relayed
        /// The upstream failed; an answer expired less than `stale_if_error` ago stands in.
        case stale(CachedResponse)
        /// Fleet mode: another daemon asked upstream and stored this meanwhile.
        case storedByFleet(CachedResponse)
    }

    /// Coalesces, forwards and stores; never settles (see `proxy`).
    private func forward(
        _ request: IncomingRequest, prepared: PreparedRequest, admission: Admission,
        writer: ResponseWriter, record: inout RequestRecord
    ) async -> Result<Forwarded, SluiceError> {
        let (route, body, directives, cacheKey) = (prepared.route, prepared.body, prepared.directives, prepared.cacheKey)
        if let cacheKey, !directives.skipsLookup,
           let hit = components.cache.lookup(key: cacheKey, maxAge: directives.maxAge)
            .flatMap({ shaped($0, route: route, summary: body.summary) }) {
            return .success(.storedMeanwhile(hit))
        }
        let upstreamRequest = UpstreamRequest(
            method: request.method,
            pathAndQuery: route.upstreamPath + request.query,
            headers: HeaderPolicy.upstreamHeaders(from: request.head.headers, keepingClientAPIKey: prepared.upstreamAuth.keepsClientAPIKey),
            body: request.body,
            bearer: prepared.upstreamAuth.bearer,
            api: route.api
        )
        record.cacheOutcome = cacheKey == nil || directives.skipsLookup ? .bypass : .miss
        do throws(SluiceError) {
            guard let cacheKey else {
                // Not stored, so never held: relayed as it arrives.
                try await relay(upstreamRequest, limitHeaders: admission.headers, writer: writer, record: &record)
                return .success(.relayed)
            }
            if body.summary.stream {
                return try await .success(forwardStream(
                    upstreamRequest, prepared: prepared, cacheKey: cacheKey, admission: admission,
                    writer: writer, record: &record))
            }
            let fetched = try await fetchAnswer(
                upstreamRequest, cacheKey: cacheKey, directives: directives, body: body,
                taskExecutor: prepared.taskExecutor, record: &record)
            switch fetched {
            case .whole(let answer):
                if UpstreamFailure.allowsStaleAnswer(status: Int(answer.status.code)),
                   let entry = await staleAnswer(cacheKey, prepared: prepared) {
                    return .success(.stale(entry))
                }
                record.status = Int(answer.status.code)
                return .success(.answer(answer))
            case .storedByFleet(let entry):
                guard let shapedEntry = shaped(entry, route: route, summary: body.summary) else {
                    try await relay(upstreamRequest, limitHeaders: admission.headers, writer: writer, record: &record)
                    return .success(.relayed)
                }
                return .success(.storedByFleet(shapedEntry))
            case .oversized(let shared):
                // Too large to store or share: one request relays it, the others ask upstream themselves.
                record.cacheOutcome = .miss
                if let stream = shared.claim() {
                    await relay(stream, limitHeaders: admission.headers, writer: writer, record: &record)
                } else {
                    try await relay(upstreamRequest, limitHeaders: admission.headers, writer: writer, record: &record)
                }
                return .success(.relayed)
            }
        } catch {
            if let cacheKey, UpstreamFailure.allowsStaleAnswer(status: error.status),
               let entry = await staleAnswer(cacheKey, prepared: prepared) {
                return .success(.stale(entry))
            }
            return .failure(error)
        }
    }

    /// Which client this is (from `Authorization`, else `x-api-key`), and how
    /// the request authenticates upstream; nil when it has no way to.
    private func authenticate(_ headers: HTTPHeaders, record: inout RequestRecord) throws(SluiceError) -> UpstreamAuth? {
        let daemonBearer = components.upstream.identity.credential?.secret
        switch authenticateClient(headers) {
        case .passThrough(let keyID, let forwardBearer):
            record.keyID = keyID
            return (forwardBearer ?? daemonBearer).map { UpstreamAuth(bearer: $0, keepsClientAPIKey: true) }
        case .passThroughAPIKey(let keyID):
            record.keyID = keyID
            return UpstreamAuth(bearer: nil, keepsClientAPIKey: true)
        case .accepted(let keyID):
            record.keyID = keyID
            // The client's key is Sluice's own: it never goes upstream.
            return daemonBearer.map { UpstreamAuth(bearer: $0, keepsClientAPIKey: false) }
        case .rejected(let reason):
            throw .unauthorized(reason)
        }
    }

    private func authenticateClient(_ headers: HTTPHeaders) -> ClientAuthentication {
        keys.authenticate(authorization: headers.first(name: "authorization"), apiKey: headers.first(name: "x-api-key"))
    }

    /// The key id of a request refused before it is authenticated properly.
    func clientKeyID(_ headers: HTTPHeaders) -> String {
        authenticateClient(headers).keyID ?? "-"
    }

    /// The parsed body where the route needs one (chat, embeddings); best effort elsewhere.
    private func readBody(_ request: IncomingRequest, route: ProxyRoute, record: inout RequestRecord) throws(SluiceError) -> ParsedBody {
        let bytes = Array(request.body.readableBytesView)
        guard route.requiresJSONBody else {
            let document = bytes.isEmpty ? nil : try? JSONParser.parse(bytes)
            let summary = document.map(RequestSummary.init(body:)) ?? RequestSummary()
            record.model = summary.model
            return ParsedBody(document: document, summary: summary)
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw .invalidJSON(bytes.isEmpty ? "the body is empty" : error.description)
        }
        guard document.isObject else { throw .bodyNotObject() }
        let summary = RequestSummary(body: document)
        record.model = summary.model
        record.streaming = summary.stream
        return ParsedBody(document: document, summary: summary)
    }

    /// The query string is part of the key (it goes upstream too); a request
    /// without one keeps the key it always had.
    private func cacheKey(
        route: ProxyRoute, query: Substring, body: ParsedBody, keyID: String, directives: CacheDirectives
    ) -> CacheKey? {
        guard route.isCacheable, !directives.noStore, let document = body.document else { return nil }
        let scope = cacheSettings.scope == .shared ? nil : keyID
        let canonical = CacheableBody.canonicalBytes(of: document, excluding: route.api?.membersOutsideKey ?? [])
        return CacheKey(route: route.recordedName + query, scope: scope, canonicalBody: canonical)
    }

    /// A stored answer in the shape the request asks for: as stored, or
    /// converted (a plain chat answer sent as a stream); nil, a miss, when it
    /// cannot be converted exactly.
    func shaped(_ entry: CachedResponse, route: ProxyRoute, summary: RequestSummary) -> CachedResponse? {
        let storedAsStream = entry.contentType.lowercased().hasPrefix("text/event-stream")
        guard summary.stream != storedAsStream else { return entry }
        guard summary.stream, let api = route.api, api.storesStreamsAsPlainAnswers else { return nil }
        return components.cache.converted(entry, variant: summary.includeUsage ? "stream+usage" : "stream") {
            guard let events = api.stream(fromPlain: entry.body, includeUsage: summary.includeUsage) else { return nil }
            var converted = entry
            converted.body = events
            converted.contentType = "text/event-stream"
            return converted
        }
    }

    /// Spends from the key's buckets, or refuses with 429.
    private func admit(keyID: String, estimatedTokens: Int, record: inout RequestRecord) async throws(SluiceError) -> Admission {
        switch await components.limiter.acquire(keyID: keyID, estimatedTokens: estimatedTokens) {
        case .allowed(let reservation, let headers):
            return Admission(reservation: reservation, headers: headers.fields)
        case .refused(let retryAfterSeconds, let headers):
            components.metrics.recordRateLimited(keyID: keyID)
            throw .rateLimited(retryAfterSeconds: retryAfterSeconds, headers: headers.fields)
        case .tooLarge(let estimate, let capacity, let headers):
            components.metrics.recordRateLimited(keyID: keyID)
            var error = SluiceError.tokensExceedBucket(estimate: estimate, capacity: capacity)
            error.headers += headers.fields
            throw error
        }
    }

    /// Answers larger than this are relayed as they arrive and not stored.
    static let maxStoredAnswerBytes = 8 << 20

    static let jsonHeaders: HTTPHeaders = ["content-type": "application/json"]
}
