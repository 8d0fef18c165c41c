import Logging
import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceStore

// The last stages: sending the answer (or Sluice's own error), then recording the request.
extension ProxyPipeline {
    func serveHit(
        _ hit: CachedResponse, as outcome: CacheOutcome = .hit, limitHeaders: [(String, String)],
        writer: ResponseWriter, record: inout RequestRecord
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: hit.contentType)
        headers.add(name: "x-sluice-cache", value: outcome.rawValue)
        headers.add(name: "age", value: String(max(0, Int(components.cache.now() - hit.createdAt))))
        headers.add(contentsOf: limitHeaders)
        record.cacheOutcome = outcome
        record.status = hit.status
        record.saved = hit.usage
        record.model = record.model ?? hit.model
        writer.send(status: HTTPResponseStatus(statusCode: hit.status), headers: headers, body: ByteBuffer(bytes: hit.body))
    }

    func sendAnswer(_ answer: UpstreamAnswer, limitHeaders: [(String, String)], writer: ResponseWriter, record: inout RequestRecord) {
        var headers = HeaderPolicy.clientHeaders(from: answer.headers)
        headers.replaceOrAdd(name: "x-sluice-cache", value: record.cacheOutcome.rawValue)
        for (name, value) in limitHeaders { headers.replaceOrAdd(name: name, value: value) }
        record.status = Int(answer.status.code)
        if record.status >= 400 {
            record.errorCode = UpstreamErrorCode.extract(status: record.status, body: Array(answer.body.readableBytesView))
        }
        writer.send(status: answer.status, headers: headers, body: answer.body)
    }

    func sendError(_ error: SluiceError, writer: ResponseWriter, cacheOutcome: CacheOutcome = .none) {
        var headers = Self.jsonHeaders
        headers.add(contentsOf: error.headers)
        if cacheOutcome != .none { headers.add(name: "x-sluice-cache", value: cacheOutcome.rawValue) }
        writer.send(status: HTTPResponseStatus(statusCode: error.status), headers: headers, body: ByteBuffer(bytes: error.body))
    }

    /// Answers with Sluice's own error, or cuts the connection when an answer had already begun.
    func fail(_ error: SluiceError, writer: ResponseWriter, record: inout RequestRecord) {
        // A request cut by the shutdown timeout sees its task cancelled, as if its client had left.
        let error = error == .clientClosed ? closedReason : error
        record.status = error.status
        record.errorCode = error.code
        if !writer.headSent {
            sendError(error, writer: writer, cacheOutcome: record.cacheOutcome)
        } else {
            writer.abort()
        }
    }

    /// Queues the usage row, counts the request and writes its log line.
    func complete(_ record: RequestRecord, method: HTTPMethod, writer: ResponseWriter) {
        components.metrics.requestFinished()
        let row = record.row(firstByteAt: writer.firstByteAt, finishedAt: .now, responseBytes: writer.bytesSent)
        components.recorder.record(row)
        components.metrics.recordRequest(route: record.route, status: record.status, cache: record.cacheOutcome)
        components.metrics.recordSpend(row)
        components.logger.info("request", metadata: [
            "method": "\(method.rawValue)",
            "route": "\(record.route)",
            "status": "\(record.status)",
            "ms": "\(Int(row.latencyMs.rounded()))",
            "key_id": "\(record.keyID)",
            "cache": "\(record.cacheOutcome.rawValue)",
        ])
    }
}
