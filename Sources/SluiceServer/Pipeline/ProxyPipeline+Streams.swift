import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceStore

// The forward stage for streamed requests.
extension ProxyPipeline {
    /// A streamed request: joins the identical stream in flight, or opens one
    /// (see `SharedStream`), and relays it as it arrives; the stream is stored
    /// once it has ended normally.
    func forwardStream(
        _ upstreamRequest: UpstreamRequest, prepared: PreparedRequest, cacheKey: CacheKey, admission: Admission,
        writer: ResponseWriter, record: inout RequestRecord
    ) async throws(SluiceError) -> Forwarded {
        let flight = SharedStreams.Key(cacheKey: cacheKey, includeUsage: prepared.body.summary.includeUsage)
        let (subscription, opened) = prepared.directives.noCache
            ? sharedStreams.openUnshared()
            : sharedStreams.join(flight)
        defer { subscription.cancel() }
        if let opened {
            let recording = prepared.route.api.map {
                StreamRecording(api: $0, template: entryTemplate(cacheKey, directives: prepared.directives, body: prepared.body, record: record))
            }
            opened.start(on: prepared.taskExecutor) { [self] stream in
                await produce(upstreamRequest, recording: recording, into: stream, flight: flight)
            }
        }
        let head = try await subscription.head()
        if UpstreamFailure.allowsStaleAnswer(status: Int(head.status.code)),
           let entry = await staleAnswer(cacheKey, prepared: prepared) {
            return .stale(entry)
        }
        let isOpener = opened != nil
        record.cacheOutcome = isOpener ? record.cacheOutcome : .coalesced
        await relay(subscription.body(head: head, opener: isOpener), limitHeaders: admission.headers, writer: writer, record: &record)
        if !isOpener {
            // Tokens another request paid for: saved here, when the stream came whole.
            record.saved = record.status == 200 && record.errorCode == nil ? record.usage : nil
            record.usage = nil
        }
        return .relayed
    }

    /// An answer expired less than `cache.stale_if_error` ago, in the shape the request asks for.
    func staleAnswer(_ cacheKey: CacheKey, prepared: PreparedRequest) async -> CachedResponse? {
        await components.cache.lookupStale(key: cacheKey).flatMap { shaped($0, route: prepared.route, summary: prepared.body.summary) }
    }
}
