extension TokenUsage {
    /// Reads an OpenAI `usage` object: `prompt_tokens`, `completion_tokens`,
    /// `total_tokens`, and the Vercel gateway's `cost` in USD (a number or a decimal string).
    /// Embeddings answers have no completion tokens.
    public init?(usageObject usage: JSONValue?) {
        guard let usage, usage.isObject else { return nil }
        let prompt = usage["prompt_tokens"]?.intValue ?? usage["input_tokens"]?.intValue
        let completion = usage["completion_tokens"]?.intValue ?? usage["output_tokens"]?.intValue
        let total = usage["total_tokens"]?.intValue
        guard prompt != nil || completion != nil || total != nil else { return nil }
        let cost = usage["cost"]?.doubleValue ?? usage["cost"]?.stringValue.flatMap(Double.init)
        self.init(
            promptTokens: prompt ?? 0,
            completionTokens: completion ?? 0,
            totalTokens: total ?? (prompt ?? 0) + (completion ?? 0),
            cost: cost
        )
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
