import NIOCore
import NIOHTTP1
import SluiceCore

extension ProxyPipeline {
    /// Relays a streamed answer chunk by chunk as it arrives.
    ///
    /// Each chunk is written and flushed before the next is read from upstream,
    /// so a slow client slows the upstream read (back-pressure) and nothing is
    /// buffered whole. A client that hangs up cancels this task, which ends the
    /// upstream request. Usage is read from the stream's last `usage` chunk.
    func forwardStreaming(
        _ upstreamRequest: UpstreamRequest, limitHeaders: [(String, String)],
        writer: ResponseWriter, record: inout RequestRecord
    ) async throws(SluiceError) {
        let started = ContinuousClock.now
        let response = try await components.upstream.send(upstreamRequest)
        var headers = HeaderPolicy.clientHeaders(from: response.headers)
        headers.replaceOrAdd(name: "x-sluice-cache", value: CacheOutcome.bypass.rawValue)
        for (name, value) in limitHeaders { headers.replaceOrAdd(name: name, value: value) }
        record.status = Int(response.status.code)
        if record.status >= 400 { record.errorCode = "upstream_\(record.status)" }
        defer {
            record.upstreamDuration = .now - started
            components.metrics.recordUpstream(duration: .now - started)
        }
        writer.start(status: response.status, headers: headers)
        var scanner = StreamUsageScanner()
        var iterator = response.body.makeAsyncIterator()
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try await iterator.next()
            } catch {
                // The upstream failed mid-answer: the head is out, so cut the connection.
                let mapped = components.upstream.mapError(error)
                record.errorCode = mapped.code
                record.usage = scanner.usage
                writer.abort()
                return
            }
            guard let chunk else { break }
            scanner.consume(chunk.readableBytesView)
            do {
                try await writer.write(chunk)
            } catch {
                record.errorCode = SluiceError.clientClosed.code
                record.usage = scanner.usage
                return
            }
        }
        record.usage = scanner.usage
        do {
            try await writer.finish()
        } catch {
            record.errorCode = SluiceError.clientClosed.code
        }
    }
}
