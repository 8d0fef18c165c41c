extension TokenUsage {
    /// Reads an OpenAI `usage` object: `prompt_tokens`, `completion_tokens`,
    /// `total_tokens`, `prompt_tokens_details.cached_tokens`, and the Vercel
    /// gateway's `cost` in USD (a number or a decimal string). Embeddings
    /// answers have no completion tokens. The Responses API's names
    /// (`input_tokens`, `output_tokens`, `input_tokens_details`) are read too,
    /// for answers whose API is not known; each `LLMAPI` reads its own exactly.
    public init?(usageObject usage: JSONValue?) {
        guard let usage, usage.isObject else { return nil }
        let prompt = usage["prompt_tokens"]?.intValue ?? usage["input_tokens"]?.intValue
        let completion = usage["completion_tokens"]?.intValue ?? usage["output_tokens"]?.intValue
        let cached = (usage["prompt_tokens_details"] ?? usage["input_tokens_details"])?["cached_tokens"]?.intValue
        self.init(prompt: prompt, completion: completion, total: usage["total_tokens"]?.intValue,
                  cost: Self.cost(in: usage), cached: cached)
    }

    /// A usage from the numbers an answer gave; nil when it gave no token count at all.
    public init?(prompt: Int?, completion: Int?, total: Int?, cost: Double?, cached: Int?) {
        guard prompt != nil || completion != nil || total != nil else { return nil }
        self.init(
            promptTokens: prompt ?? 0,
            completionTokens: completion ?? 0,
            totalTokens: total ?? (prompt ?? 0) + (completion ?? 0),
            cost: cost,
            cachedTokens: max(0, cached ?? 0)
        )
    }

    /// The Vercel gateway's `cost` member: a number or a decimal string.
    public static func cost(in usage: JSONValue) -> Double? {
        usage["cost"]?.doubleValue ?? usage["cost"]?.stringValue.flatMap(Double.init)
    }

    /// The `usage` of a whole JSON answer, if the body is a JSON object and has one
    /// (read with ``JSONUsageScanner``, so a `usage` over 64 KiB counts as absent).
    public init?(responseBody: [UInt8]) {
        var scanner = JSONUsageScanner()
        scanner.consume(responseBody)
        guard let usage = scanner.usage else { return nil }
        self = usage
    }
}
