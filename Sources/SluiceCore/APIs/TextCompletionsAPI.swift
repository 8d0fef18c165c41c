/// OpenAI's legacy `/v1/completions`: streams end with `data: [DONE]` and are
/// stored and replayed as they came. Usage has OpenAI's names.
public struct TextCompletionsAPI: LLMAPI {
    public init() {}

    public func endsNormally(_ events: [ServerSentEvent]) -> Bool {
        events.last?.isDone ?? false
    }
}
