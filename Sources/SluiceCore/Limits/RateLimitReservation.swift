/// What an admitted request took from its key's buckets, to settle once the
/// upstream has reported the tokens really used.
public struct RateLimitReservation: Sendable, Equatable {
    public let keyID: String
    /// Model tokens taken at admission (the estimate; 0 for a cache hit).
    public let tokens: Int

    public init(keyID: String, tokens: Int) {
        self.keyID = keyID
        self.tokens = tokens
    }
}
