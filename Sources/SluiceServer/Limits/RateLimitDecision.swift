import SluiceCore

/// The rate limiter's answer for one request.
public enum RateLimitDecision: Sendable, Equatable {
    /// Go ahead; `settle` the reservation once the tokens really used are known.
    case allowed(RateLimitReservation, headers: RateLimitHeaders)
    /// Answer 429 with `retry-after: retryAfterSeconds` and these headers.
    case refused(retryAfterSeconds: Int, headers: RateLimitHeaders)
    /// Answer 429 at once: the estimate is more than the token bucket can ever hold.
    case tooLarge(estimate: Int, capacity: Int, headers: RateLimitHeaders)

    public var headers: RateLimitHeaders {
        switch self {
        case .allowed(_, let headers), .refused(_, let headers), .tooLarge(_, _, let headers): headers
        }
    }
}
