/// USD per token for each model, as the gateway's `GET /v1/models` lists them
/// (`"pricing": {"input": "0.0000025", "output": "0.00001", …}`, decimal
/// strings), to estimate the worst-case cost of a request before it goes upstream.
public struct ModelPrices: Sendable, Equatable {
    public struct Price: Sendable, Equatable {
        /// USD per prompt token.
        public var input: Double
        /// USD per completion token.
        public var output: Double

        public init(input: Double, output: Double) {
            self.input = input
            self.output = output
        }
    }

    public var byModel: [String: Price]

    public init(byModel: [String: Price] = [:]) {
        self.byModel = byModel
    }

    /// Completion tokens assumed for a request that gives neither `max_tokens`
    /// nor `max_completion_tokens`.
    public static let defaultCompletionTokens = 4096

    /// Reads a `/models` answer: `{"data":[{"id", "pricing":{"input","output"}}]}`.
    /// Models without a readable, finite, non-negative input and output price are
    /// left out; nil when the body is not such a list at all.
    public static func parse(_ bytes: [UInt8]) -> ModelPrices? {
        guard let document = try? JSONParser.parse(bytes), case .array(let models)? = document["data"] else { return nil }
        var prices: [String: Price] = [:]
        for model in models {
            guard let id = model["id"]?.stringValue, let pricing = model["pricing"],
                  let input = usdPerToken(pricing["input"]), let output = usdPerToken(pricing["output"])
            else { continue }
            prices[id] = Price(input: input, output: output)
        }
        return ModelPrices(byModel: prices)
    }

    /// The most a request can cost: its estimated prompt tokens (body bytes / 4,
    /// as `TokenEstimator` counts them) at the input price, plus `maxTokens`
    /// (else `defaultCompletionTokens`) at the output price. Nil for a model
    /// without a known price.
    public func worstCase(model: String?, bodyBytes: Int, maxTokens: Int?) -> Double? {
        guard let model, let price = byModel[model] else { return nil }
        let promptTokens = (max(0, bodyBytes) + TokenEstimator.bytesPerToken - 1) / TokenEstimator.bytesPerToken
        let completionTokens = max(0, maxTokens ?? Self.defaultCompletionTokens)
        return Double(promptTokens) * price.input + Double(completionTokens) * price.output
    }

    private static func usdPerToken(_ value: JSONValue?) -> Double? {
        let number: Double?
        switch value {
        case .string(let text)?: number = Double(text)
        case .number(let text)?: number = Double(text)
        default: number = nil
        }
        guard let number, number.isFinite, number >= 0 else { return nil }
        return number
    }
}
