/// What differs between the model APIs Sluice caches, one conformance per API
/// in this folder. Pure functions over bytes and JSON values.
///
/// - which request members do not change the answer (left out of the cache key);
/// - how its usage is read, from an answer and from a stream's events;
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

    /// The tokens and cost an answer's `usage` object reports; nil when it
    /// reports no token count.
    func usage(from usageObject: JSONValue) -> TokenUsage?

    /// A stream's usage after one more event (a parsed `data:` payload), given
    /// what the events before it reported: the API says which events carry
    /// usage and how partial reports add up.
    func streamUsage(_ earlier: TokenUsage?, after event: JSONValue) -> TokenUsage?
}

extension LLMAPI {
    public var membersOutsideKey: Set<String> { [] }
    public var storesStreamsAsPlainAnswers: Bool { false }
    public func plainAnswer(fromStream events: [ServerSentEvent]) -> [UInt8]? { nil }
    public func stream(fromPlain answer: [UInt8], includeUsage: Bool) -> [UInt8]? { nil }

    /// OpenAI's names: `prompt_tokens`, `completion_tokens`, `total_tokens`,
    /// `prompt_tokens_details.cached_tokens`, and the gateway's `cost`.
    public func usage(from usageObject: JSONValue) -> TokenUsage? {
        guard usageObject.isObject else { return nil }
        return TokenUsage(
            prompt: usageObject["prompt_tokens"]?.intValue, completion: usageObject["completion_tokens"]?.intValue,
            total: usageObject["total_tokens"]?.intValue, cost: TokenUsage.cost(in: usageObject),
            cached: usageObject["prompt_tokens_details"]?["cached_tokens"]?.intValue)
    }

    /// OpenAI's chunks: the latest event with a `usage` object (the gateway puts
    /// it on the last content chunk, OpenAI on a final chunk without choices).
    public func streamUsage(_ earlier: TokenUsage?, after event: JSONValue) -> TokenUsage? {
        guard let object = event["usage"], let found = usage(from: object) else { return earlier }
        return found
    }
}

