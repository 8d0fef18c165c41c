/// What an admitted request took from its key's buckets, to settle once the
/// upstream has reported the tokens really used.
public struct RateLimitReservation: Sendable, Equatable {
    public let keyID: String
    /// Model tokens taken at admission (the estimate; 0 for a cache hit).
    public let tokens: Int
    /// Whether it was taken from the buckets a fleet shares (in its database),
    /// rather than from this daemon's own.
    public let isShared: Bool

    public init(keyID: String, tokens: Int, isShared: Bool = false) {
        self.keyID = keyID
        self.tokens = tokens
        self.isShared = isShared
    }
}
