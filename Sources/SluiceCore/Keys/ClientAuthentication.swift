/// What `ClientKeyRegistry` decided about a request's `Authorization` header.
public enum ClientAuthentication: Sendable, Equatable {
    /// No keys are configured. `keyID` is the bearer's hashed key id, or
    /// `KeyID.anonymous` without one; `forwardBearer` is the client's token
    /// (without `Bearer `), to send upstream unchanged, or `nil` to use the
    /// daemon's own upstream credential.
    case passThrough(keyID: String, forwardBearer: String?)
    /// No keys are configured and the client sent its key as `x-api-key`
    /// (Anthropic's SDKs do): that header goes upstream unchanged, and no bearer is added.
    case passThroughAPIKey(keyID: String)
    /// The bearer is a configured key; `keyID` is its name. The daemon's upstream
    /// credential is used.
    case accepted(keyID: String)
    /// Answer 401. `reason` is written for the client and never contains the key.
    case rejected(reason: String)

    /// The key id that limits and usage are kept under, or `nil` when rejected.
    public var keyID: String? {
        switch self {
        case .passThrough(let keyID, _), .passThroughAPIKey(let keyID), .accepted(let keyID): keyID
        case .rejected: nil
        }
    }
}
