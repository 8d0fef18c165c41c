/// OpenAI's Responses API (`/v1/responses`): a stream is typed events,
/// `response.created` … `response.completed`; a stored stream is replayed as
/// the same events (it has its own cache entry, apart from the plain answer).
/// Usage is `input_tokens`, `output_tokens` and `input_tokens_details.cached_tokens`,
/// on the answer and on the final event's `response`.
public struct ResponsesAPI: LLMAPI {
    public init() {}

    public func endsNormally(_ events: [ServerSentEvent]) -> Bool {
        guard let last = events.last(where: { !$0.isDone }) else { return false }
        if last.name == "response.completed" { return true }
        return (try? JSONParser.parse(last.data))?["type"]?.stringValue == "response.completed"
    }

    public func usage(from usageObject: JSONValue) -> TokenUsage? {
        guard usageObject.isObject else { return nil }
        return TokenUsage(
            prompt: usageObject["input_tokens"]?.intValue, completion: usageObject["output_tokens"]?.intValue,
            total: usageObject["total_tokens"]?.intValue, cost: TokenUsage.cost(in: usageObject),
            cached: usageObject["input_tokens_details"]?["cached_tokens"]?.intValue)
    }

    public func streamUsage(_ earlier: TokenUsage?, after event: JSONValue) -> TokenUsage? {
        guard let object = event["response"]?["usage"], let found = usage(from: object) else { return earlier }
        return found
    }
}
