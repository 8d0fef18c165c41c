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
        self.maxTokens = Self.tokenCount(body["max_completion_tokens"]) ?? Self.tokenCount(body["max_tokens"])
    }

    /// A token count; a positive number too large for `Int` (`1e19`) reads as
    /// `Int.max`, which no token bucket can hold, rather than as absent.
    private static func tokenCount(_ value: JSONValue?) -> Int? {
        guard let value else { return nil }
        if let whole = value.intValue { return whole }
        if let real = value.doubleValue, real >= 9e15 { return Int.max }
        return nil
    }
}

/// The canonical form of a request body for cache keys: `"stream": false` is the
/// same request as no `stream` member, so it is dropped before encoding.
///
/// Of repeated `stream` members the last counts (as `RequestSummary` reads it),
/// so when that one is `false` every `stream` member goes: dropping only the
/// `false` ones would leave `{"stream":true,"stream":false}`, a request that
/// does not stream, with the cache key of `{"stream":true}`.
///
/// `excluded` names further top-level members that do not change the answer
/// (`LLMAPI.membersOutsideKey`: for chat, `stream` and `stream_options`).
public enum CacheableBody {
    public static func canonicalBytes(of body: JSONValue, excluding excluded: Set<String> = []) -> [UInt8] {
        guard case .object(let members) = body else { return CanonicalJSON.encode(body) }
        let dropsStream = body["stream"] == .bool(false)
        guard dropsStream || members.contains(where: { excluded.contains($0.name) }) else {
            return CanonicalJSON.encode(body)
        }
        let kept = members.filter { member in
            !(dropsStream && member.name.utf8.elementsEqual("stream".utf8)) && !excluded.contains(member.name)
        }
        return CanonicalJSON.encode(.object(kept))
    }
}
