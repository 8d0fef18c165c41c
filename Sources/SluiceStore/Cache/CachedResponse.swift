import SluiceCore

/// One stored upstream answer.
public struct CachedResponse: Sendable, Equatable {
    /// Hex SHA-256 cache key.
    public var key: String
    /// Client key id that stored it (never a secret).
    public var keyID: String
    public var model: String?
    public var route: String
    public var status: Int
    public var contentType: String
    /// The response body exactly as the upstream sent it.
    public var body: [UInt8]
    /// Unix seconds.
    public var createdAt: Double
    /// Unix seconds after which the entry must not be served.
    public var expiresAt: Double
    /// Tokens and cost of the original answer: what each hit saves.
    public var usage: TokenUsage?

    public init(
        key: String, keyID: String, model: String?, route: String, status: Int, contentType: String,
        body: [UInt8], createdAt: Double, expiresAt: Double, usage: TokenUsage? = nil
    ) {
        self.key = key
        self.keyID = keyID
        self.model = model
        self.route = route
        self.status = status
        self.contentType = contentType
        self.body = body
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usage = usage
    }

    /// Whether the entry may still be served at `now` (unix seconds).
    public func isFresh(at now: Double) -> Bool {
        now < expiresAt
    }
}
