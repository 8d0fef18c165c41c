/// OpenAI's Responses API (`/v1/responses`): a stream is typed events,
/// `response.created` … `response.completed`; a stored stream is replayed as
/// the same events (it has its own cache entry, apart from the plain answer).
public struct ResponsesAPI: LLMAPI {
    public init() {}

    public func endsNormally(_ events: [ServerSentEvent]) -> Bool {
        guard let last = events.last(where: { !$0.isDone }) else { return false }
        if last.name == "response.completed" { return true }
        return (try? JSONParser.parse(last.data))?["type"]?.stringValue == "response.completed"
    }
}

/// Anthropic's Messages API (`/v1/messages`): a stream is `message_start` …
/// `message_stop`, replayed as the same events.
public struct AnthropicMessagesAPI: LLMAPI {
    public init() {}

    public func endsNormally(_ events: [ServerSentEvent]) -> Bool {
        guard let last = events.last else { return false }
        if last.name == "message_stop" { return true }
        return (try? JSONParser.parse(last.data))?["type"]?.stringValue == "message_stop"
    }
}
