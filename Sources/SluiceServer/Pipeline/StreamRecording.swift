import NIOCore
import SluiceCore
import SluiceStore

/// A copy of a stream as it is relayed, so that one that ends normally with
/// status 200 can be stored: as the plain answer it adds up to where the API
/// keeps one entry for both shapes (chat), else as the events themselves.
/// A stream longer than `ProxyPipeline.maxStoredAnswerBytes` is not kept.
struct StreamRecording: Sendable {
    let api: any LLMAPI
    let template: CacheEntryTemplate
    private var bytes: [UInt8] = []
    private var overflowed = false

    init(api: any LLMAPI, template: CacheEntryTemplate) {
        self.api = api
        self.template = template
    }

    mutating func append(_ chunk: ByteBuffer) {
        guard !overflowed else { return }
        guard bytes.count + chunk.readableBytes <= ProxyPipeline.maxStoredAnswerBytes else {
            overflowed = true
            bytes = []
            return
        }
        bytes.append(contentsOf: chunk.readableBytesView)
    }

    /// The entry to store, or nil: the stream was cut, too long, not a 200,
    /// did not end the way its API ends a stream, or cannot be assembled exactly.
    func entry(status: Int, usage: TokenUsage?, now: Double) -> CachedResponse? {
        guard !overflowed, status == 200 else { return nil }
        let events = ServerSentEvents.parse(bytes)
        guard api.endsNormally(events) else { return nil }
        let body: [UInt8]
        let contentType: String
        if api.storesStreamsAsPlainAnswers {
            guard let plain = api.plainAnswer(fromStream: events) else { return nil }
            (body, contentType) = (plain, "application/json")
        } else {
            (body, contentType) = (bytes, "text/event-stream")
        }
        return CachedResponse(
            key: template.key.hex, keyID: template.keyID, model: template.model, route: template.route, status: status,
            contentType: contentType, body: body, createdAt: now, expiresAt: now + template.ttlSeconds, usage: usage)
    }
}
