/// `/v1/embeddings`: never streamed; usage has OpenAI's names (no completion tokens).
public struct EmbeddingsAPI: LLMAPI {
    public init() {}

    public func endsNormally(_ events: [ServerSentEvent]) -> Bool { false }
}
