import NIOCore
import NIOHTTP1
import SluiceCore

extension ProxyPipeline {
    // MARK: The guard stage

    /// The web access checks on TCP (`WebAccessPolicy`): a foreign `Origin` or
    /// `Host` is answered 403 here, before anything else, and recorded. An
    /// allowed origin gets CORS headers on its answer, and its preflight is
    /// answered here. Returns whether the request goes on.
    func admitsWebAccess(_ request: IncomingRequest, writer: ResponseWriter) -> Bool {
        guard request.transport == .tcp else { return true }
        let headers = request.head.headers
        let verdict = webAccessPolicy.withLockedValue { policy in
            policy.check(host: headers.first(name: "host"), origin: headers.first(name: "origin"),
                         fetchSite: headers.first(name: "sec-fetch-site"))
        }
        switch verdict {
        case .allowed:
            return true
        case .allowedOrigin(let origin):
            writer.addToEveryAnswer(CORSHeaders.forAnswer(origin: origin))
            guard request.method == .OPTIONS, headers.contains(name: "access-control-request-method") else { return true }
            var record = RequestRecord(
                receivedAt: request.receivedAt, timestamp: components.clock.now(),
                route: ProxyRoute(path: request.path)?.recordedName ?? String(request.path.prefix(64)), requestBytes: 0)
            components.metrics.requestStarted()
            record.status = 204
            writer.send(status: .noContent, headers: HTTPHeaders(CORSHeaders.preflight), body: ByteBuffer())
            complete(record, method: request.method, writer: writer)
            return false
        case .hostNotAllowed, .originNotAllowed:
            var record = RequestRecord(
                receivedAt: request.receivedAt, timestamp: components.clock.now(),
                route: ProxyRoute(path: request.path)?.recordedName ?? String(request.path.prefix(64)),
                requestBytes: request.body.readableBytes)
            record.keyID = clientKeyID(headers)
            components.metrics.requestStarted()
            fail(verdict == .hostNotAllowed ? .hostNotAllowed() : .originNotAllowed(), writer: writer, record: &record)
            complete(record, method: request.method, writer: writer)
            return false
        }
    }
}
