import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import SluiceCore

extension ProxyPipeline {
    /// Sends a request upstream and relays its answer as it arrives.
    func relay(
        _ upstreamRequest: UpstreamRequest, limitHeaders: [(String, String)],
        writer: ResponseWriter, record: inout RequestRecord
    ) async throws(SluiceError) {
        let started = ContinuousClock.now
        let response = try await components.upstream.send(upstreamRequest)
        await relay(UpstreamBodyStream(response: response, started: started, api: upstreamRequest.api),
                    limitHeaders: limitHeaders, writer: writer, record: &record)
    }

    /// Relays an answer to the client chunk by chunk as it arrives: streams,
    /// answers on routes that are not cached, and answers too large to store.
    ///
    /// Each chunk is written and flushed before the next is read, so a slow
    /// client slows the upstream read (back-pressure) and nothing is buffered
    /// whole. A client that hangs up cancels this task, which ends its read
    /// (and the upstream request, when nobody else reads it).
    func relay(
        _ body: some RelayedBody, limitHeaders: [(String, String)],
        writer: ResponseWriter, record: inout RequestRecord
    ) async {
        var body = body
        var headers = HeaderPolicy.clientHeaders(from: body.headers)
        headers.replaceOrAdd(name: "x-sluice-cache", value: record.cacheOutcome.rawValue)
        for (name, value) in limitHeaders { headers.replaceOrAdd(name: name, value: value) }
        record.status = Int(body.status.code)
        if record.status >= 400 { record.errorCode = "upstream_\(record.status)" }
        let started = body.upstreamCallStarted
        defer {
            if let started {
                record.upstreamDuration = .now - started
                components.metrics.recordUpstream(duration: .now - started)
            }
        }
        writer.start(status: body.status, headers: headers)
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try await body.next()
            } catch {
                // The upstream failed mid-answer: the head is out, so cut the connection.
                // The row says the answer failed (502, 504, or 499/503 when cut here),
                // not the 200 its head had announced.
                let mapped = components.upstream.mapError(error)
                let reason = mapped == .clientClosed ? closedReason : mapped
                record.status = reason.status
                record.errorCode = reason.code
                record.usage = body.usage
                writer.abort()
                return
            }
            guard let chunk else { break }
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
                record.usage = body.usage
                return
            }
        }
        record.usage = body.usage
        do {
            try await writer.finish()
        } catch {
            record.errorCode = closedReason.code
        }
    }

    /// Reads one upstream stream for every request that shares it (see
    /// `SharedStream`), and stores it once it has ended normally with status 200.
    func produce(
        _ upstreamRequest: UpstreamRequest, recording: StreamRecording?,
        into stream: SharedStream, flight: SharedStreams.Key
    ) async {
        defer { sharedStreams.remove(flight, stream) }
        let started = ContinuousClock.now
        let response: HTTPClientResponse
        do {
            response = try await components.upstream.send(upstreamRequest)
        } catch {
            stream.publishHead(.failure(error))
            return
        }
        var body = UpstreamBodyStream(response: response, started: started, api: upstreamRequest.api)
        stream.publishHead(.success(SharedStream.Head(status: body.status, headers: body.headers, started: started)))
        var recording = recording
        do {
            while let chunk = try await body.next() {
                recording?.append(chunk)
                await stream.publish(chunk)
                if stream.isAbandoned { throw CancellationError() }
            }
        } catch {
            stream.finish(.failed(components.upstream.mapError(error), usage: body.usage))
            return
        }
        // Stored before the stream ends, so a request that comes after it is a hit.
        if let entry = recording?.entry(status: Int(body.status.code), usage: body.usage, now: components.cache.now()) {
            components.cache.save(entry)
        }
        stream.finish(.finished(usage: body.usage))
    }

    /// Why a connection went away under a request: its client, or the shutdown timeout.
    var closedReason: SluiceError {
        inFlight.isCutting ? .shuttingDown() : .clientClosed
    }
}
