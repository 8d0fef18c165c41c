/// The few fields of a JSON request body that Sluice acts on.
public struct RequestSummary: Sendable, Equatable {
    public var model: String?
    public var stream: Bool
    /// `stream_options.include_usage`: the last stream chunk will carry `usage`.
    public var includeUsage: Bool
    /// `max_completion_tokens`, else `max_tokens`.
    public var maxTokens: Int?

    public init(model: String? = nil, stream: Bool = false, includeUsage: Bool = false, maxTokens: Int? = nil) {
        self.model = model
        self.stream = stream
        self.includeUsage = includeUsage
        self.maxTokens = maxTokens
    }

    public init(body: JSONValue) {
        self.model = body["model"]?.stringValue
        self.stream = body["stream"]?.boolValue ?? false
        self.includeUsage = body["stream_options"]?["include_usage"]?.boolValue ?? false
        self.maxTokens = body["max_completion_tokens"]?.intValue ?? body["max_tokens"]?.intValue
    }
}

/// The canonical form of a request body for cache keys: `"stream": false` is the
/// same request as no `stream` member, so it is dropped before encoding.
public enum CacheableBody {
    public static func canonicalBytes(of body: JSONValue) -> [UInt8] {
        guard case .object(let members) = body else { return CanonicalJSON.encode(body) }
        let kept = members.filter { !($0.name == "stream" && $0.value == .bool(false)) }
        return CanonicalJSON.encode(.object(kept))
    }
}
