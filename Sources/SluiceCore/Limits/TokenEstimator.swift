/// A rough upper guess of the model tokens a request will use, reserved from
/// the token bucket before it goes upstream and corrected by `settle` once the
/// upstream reports `usage`.
///
/// Prompt: one token per four bytes of the JSON body (JSON punctuation makes
/// this a slight overestimate). Completion: `max_completion_tokens` or
/// `max_tokens` when the request gives one, else nothing.
public enum TokenEstimator {
    public static let bytesPerToken = 4

    /// - Parameters:
    ///   - body: the request body as received.
    ///   - maxTokens: `max_completion_tokens`, else `max_tokens`, if the body has one.
    public static func estimate(body: [UInt8], maxTokens: Int?) -> Int {
        let prompt = (body.count + bytesPerToken - 1) / bytesPerToken
        let (total, overflow) = prompt.addingReportingOverflow(max(0, maxTokens ?? 0))
        return overflow ? Int.max : total
    }
}
