/// How the cache took part in answering a request.
public enum CacheOutcome: String, Sendable, Equatable, CaseIterable {
    /// Answered from the cache.
    case hit
    /// Looked up, not found, forwarded (and stored if cacheable).
    case miss
    /// Not looked up: streaming, not cacheable, or `Cache-Control` said so.
    case bypass
    /// Shared the upstream answer of an identical request in flight.
    case coalesced
    /// The upstream failed; an answer expired less than `cache.stale_if_error` ago was served.
    case stale
    /// The request never reached the cache step (bad input, 401, 429...).
    case none
}

/// Tokens and cost as the upstream reported them in `usage`.
public struct TokenUsage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    /// USD, where the upstream reports it (`usage.cost` on the Vercel AI Gateway).
    public var cost: Double?
    /// Prompt tokens read from the provider's prompt cache (part of `promptTokens`):
    /// OpenAI's `cached_tokens`, Anthropic's `cache_read_input_tokens`.
    public var cachedTokens: Int

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int, cost: Double? = nil, cachedTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens
        self.cost = cost
        self.cachedTokens = cachedTokens
    }
}

/// One row of the usage table: what happened to one request.
///
/// Holds a key *id* only, never a secret.
public struct UsageRecord: Sendable, Equatable {
    /// Wall-clock time the request arrived, seconds since 1970.
    public var timestamp: Double
    public var keyID: String
    public var model: String?
    /// Normalised route, e.g. `/v1/chat/completions`.
    public var route: String
    public var streaming: Bool
    public var status: Int
    public var cacheOutcome: CacheOutcome
    /// Tokens and cost spent upstream (nil on a hit or when not reported).
    public var usage: TokenUsage?
    /// On a hit: the tokens and cost of the stored answer, i.e. what this hit saved.
    public var saved: TokenUsage?
    /// Milliseconds from arrival to the first response byte.
    public var firstByteLatencyMs: Double?
    /// Milliseconds from arrival to the last response byte.
    public var latencyMs: Double
    /// Milliseconds the upstream call took (nil when none was made).
    public var upstreamLatencyMs: Double?
    public var requestBytes: Int
    public var responseBytes: Int
    /// Machine-readable error code where one applies (`rate_limit_exceeded`, `upstream_timeout`...).
    public var errorCode: String?

    public init(
        timestamp: Double, keyID: String, model: String?, route: String, streaming: Bool,
        status: Int, cacheOutcome: CacheOutcome, usage: TokenUsage? = nil, saved: TokenUsage? = nil,
        firstByteLatencyMs: Double? = nil, latencyMs: Double, upstreamLatencyMs: Double? = nil,
        requestBytes: Int, responseBytes: Int, errorCode: String? = nil
    ) {
        self.timestamp = timestamp
        self.keyID = keyID
        self.model = model
        self.route = route
        self.streaming = streaming
        self.status = status
        self.cacheOutcome = cacheOutcome
        self.usage = usage
        self.saved = saved
        self.firstByteLatencyMs = firstByteLatencyMs
        self.latencyMs = latencyMs
        self.upstreamLatencyMs = upstreamLatencyMs
        self.requestBytes = requestBytes
        self.responseBytes = responseBytes
        self.errorCode = errorCode
    }
}
