/// What differs between the model APIs Sluice caches, one conformance per API
/// in this folder. Pure functions over bytes and JSON values.
///
/// - which request members do not change the answer (left out of the cache key);
/// - how a stream ends normally (only such a stream is stored);
/// - how a stored answer serves a request of the other shape (streamed or
///   plain), where that can be done exactly; `nil` means it cannot, which the
///   request path treats as a miss.
public protocol LLMAPI: Sendable {
    /// Top-level body members left out of the cache key, besides `"stream": false`.
    var membersOutsideKey: Set<String> { get }

    /// Whether a streamed request's key is that of the plain request: then
    /// one stored answer serves both shapes, kept in its plain form (see
    /// `plainAnswer(fromStream:)` and `stream(fromPlain:includeUsage:)`).
    var storesStreamsAsPlainAnswers: Bool { get }

    /// Whether these events, the whole stream, end the way the API ends a
    /// complete answer (`[DONE]`, `response.completed`, `message_stop`).
    func endsNormally(_ events: [ServerSentEvent]) -> Bool

    /// The plain answer a complete stream adds up to; `nil` when it cannot be
    /// assembled exactly.
    func plainAnswer(fromStream events: [ServerSentEvent]) -> [UInt8]?

    /// The stream a plain answer is sent as; `nil` when it cannot be exactly.
    func stream(fromPlain answer: [UInt8], includeUsage: Bool) -> [UInt8]?
}

extension LLMAPI {
    public var membersOutsideKey: Set<String> { [] }
    public var storesStreamsAsPlainAnswers: Bool { false }
    public func plainAnswer(fromStream events: [ServerSentEvent]) -> [UInt8]? { nil }
    public func stream(fromPlain answer: [UInt8], includeUsage: Bool) -> [UInt8]? { nil }
}

/// OpenAI's legacy `/v1/completions`: streams end with `data: [DONE]` and are
/// stored and replayed as they came.
public struct TextCompletionsAPI: LLMAPI {
    public init() {}

    public func endsNormally(_ events: [ServerSentEvent]) -> Bool {
        events.last?.isDone ?? false
    }
}

/// `/v1/embeddings`: never streamed.
public struct EmbeddingsAPI: LLMAPI {
    public init() {}

    public func endsNormally(_ events: [ServerSentEvent]) -> Bool { false }
}
