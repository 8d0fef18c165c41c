/// Anthropic's Messages API (`/v1/messages`): a stream is `message_start` …
/// `message_stop`, replayed as the same events.
///
/// Usage: `input_tokens` counts only the prompt tokens after the last cache
/// breakpoint, so the prompt is `input_tokens + cache_read_input_tokens +
/// cache_creation_input_tokens`, of which the cache reads are `cachedTokens`.
/// A stream reports the input on `message_start`'s message and the output,
/// cumulatively, on `message_delta`.
public struct AnthropicMessagesAPI: LLMAPI {
    public init() {}

    public func endsNormally(_ events: [ServerSentEvent]) -> Bool {
        guard let last = events.last else { return false }
        if last.name == "message_stop" { return true }
        return (try? JSONParser.parse(last.data))?["type"]?.stringValue == "message_stop"
    }

    public func usage(from usageObject: JSONValue) -> TokenUsage? {
        guard usageObject.isObject else { return nil }
        let input = usageObject["input_tokens"]?.intValue
        let cacheRead = usageObject["cache_read_input_tokens"]?.intValue
        let cacheWrite = usageObject["cache_creation_input_tokens"]?.intValue
        let prompt = input == nil && cacheRead == nil && cacheWrite == nil
            ? nil : (input ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0)
        return TokenUsage(
            prompt: prompt, completion: usageObject["output_tokens"]?.intValue,
            total: nil, cost: TokenUsage.cost(in: usageObject), cached: cacheRead)
    }

    public func streamUsage(_ earlier: TokenUsage?, after event: JSONValue) -> TokenUsage? {
        guard let object = event["message"]?["usage"] ?? event["usage"], let found = usage(from: object) else {
            return earlier
        }
        guard let earlier else { return found }
        // A `message_delta` without input counts keeps those of `message_start`.
        let hasInput = object["input_tokens"] != nil || object["cache_read_input_tokens"] != nil
            || object["cache_creation_input_tokens"] != nil
        let prompt = hasInput ? found.promptTokens : earlier.promptTokens
        let completion = object["output_tokens"] != nil ? found.completionTokens : earlier.completionTokens
        return TokenUsage(
            promptTokens: prompt, completionTokens: completion, totalTokens: prompt + completion,
            cost: found.cost ?? earlier.cost, cachedTokens: hasInput ? found.cachedTokens : earlier.cachedTokens)
    }
}
