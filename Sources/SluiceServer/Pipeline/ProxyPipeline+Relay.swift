import NIOCore
import NIOHTTP1
import SluiceCore

extension ProxyPipeline {
    /// Sends a request upstream and relays its answer as it arrives.
    func relay(
        _ upstreamRequest: UpstreamRequest, limitHeaders: [(String, String)],
        writer: ResponseWriter, record: inout RequestRecord, recording: StreamRecording? = nil
    ) async throws(SluiceError) {
        let started = ContinuousClock.now
        let response = try await components.upstream.send(upstreamRequest)
        await relay(UpstreamBodyStream(response: response, started: started),
                    limitHeaders: limitHeaders, writer: writer, record: &record, recording: recording)
    }

    /// Relays an answer to the client chunk by chunk as it arrives: streams,
    /// answers on routes that are not cached, and answers too large to store.
    ///
    /// Each chunk is written and flushed before the next is read from upstream,
    /// so a slow client slows the upstream read (back-pressure) and nothing is
    /// buffered whole. A client that hangs up cancels this task, which ends the
    /// upstream request. Usage is scanned as the bytes go by.
    ///
    /// With a `recording`, a stream that ends normally is stored (see `StreamRecording`).
    func relay(
        _ stream: UpstreamBodyStream, limitHeaders: [(String, String)],
        writer: ResponseWriter, record: inout RequestRecord, recording: StreamRecording? = nil
    ) async {
        var stream = stream
        var recording = recording
        var headers = HeaderPolicy.clientHeaders(from: stream.headers)
        headers.replaceOrAdd(name: "x-sluice-cache", value: record.cacheOutcome.rawValue)
        for (name, value) in limitHeaders { headers.replaceOrAdd(name: name, value: value) }
        record.status = Int(stream.status.code)
        if record.status >= 400 { record.errorCode = "upstream_\(record.status)" }
        let started = stream.started
        defer {
            record.upstreamDuration = .now - started
            components.metrics.recordUpstream(duration: .now - started)
        }
        writer.start(status: stream.status, headers: headers)
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try await stream.next()
            } catch {
                // The upstream failed mid-answer: the head is out, so cut the connection.
                // The row says the answer failed (502, 504, or 499/503 when cut here),
                // not the 200 its head had announced.
                let mapped = components.upstream.mapError(error)
                let reason = mapped == .clientClosed ? closedReason : mapped
                record.status = reason.status
                record.errorCode = reason.code
                record.usage = stream.usageScanner.usage
                writer.abort()
                return
            }
            guard let chunk else { break }
            recording?.append(chunk)
            do {
                // A cancelled task (client gone, or cut at shutdown) must not wait on a
                // write that a client which stopped reading will never take.
                try await withTaskCancellationHandler {
                    try await writer.write(chunk)
                } onCancel: {
                    writer.abort()
                }
            } catch {
                record.status = closedReason.status
                record.errorCode = closedReason.code
                record.usage = stream.usageScanner.usage
                return
            }
        }
        record.usage = stream.usageScanner.usage
        if record.errorCode == nil,
           let entry = recording?.entry(status: record.status, usage: record.usage, now: components.cache.now()) {
            components.cache.save(entry)
        }
        do {
            try await writer.finish()
        } catch {
            record.errorCode = closedReason.code
        }
    }

    /// Why a connection went away under a request: its client, or the shutdown timeout.
    var closedReason: SluiceError {
        inFlight.isCutting ? .shuttingDown() : .clientClosed
    }
}
