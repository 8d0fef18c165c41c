/// An error Sluice itself answers with, in the OpenAI error shape so that
/// OpenAI SDKs understand it: `{"error":{"message","type","code"}}`.
///
/// Messages are written for the client and never include a secret.
public struct SluiceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var type: String
    public var code: String
    public var message: String
    /// Extra response headers (e.g. `retry-after`).
    public var headers: [(String, String)]

    public init(status: Int, type: String, code: String, message: String, headers: [(String, String)] = []) {
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.headers = headers
    }

    public static func == (lhs: SluiceError, rhs: SluiceError) -> Bool {
        lhs.status == rhs.status && lhs.type == rhs.type && lhs.code == rhs.code && lhs.message == rhs.message
            && lhs.headers.map { "\($0.0)=\($0.1)" } == rhs.headers.map { "\($0.0)=\($0.1)" }
    }

    public var description: String { "\(status) \(code): \(message)" }

    /// The JSON body of the answer.
    public var body: [UInt8] {
        var output: [UInt8] = []
        output.append(contentsOf: #"{"error":{"message":"#.utf8)
        CanonicalJSON.writeString(message, into: &output)
        output.append(contentsOf: #","type":"#.utf8)
        CanonicalJSON.writeString(type, into: &output)
        output.append(contentsOf: #","param":null,"code":"#.utf8)
        CanonicalJSON.writeString(code, into: &output)
        output.append(contentsOf: "}}".utf8)
        return output
    }
}

extension SluiceError {
    public static func invalidJSON(_ detail: String) -> SluiceError {
        SluiceError(status: 400, type: "invalid_request_error", code: "invalid_json",
                    message: "The request body is not valid JSON: \(detail).")
    }

    public static func bodyNotObject() -> SluiceError {
        SluiceError(status: 400, type: "invalid_request_error", code: "invalid_body",
                    message: "The request body must be a JSON object.")
    }

    public static func unauthorized(_ reason: String) -> SluiceError {
        SluiceError(status: 401, type: "authentication_error", code: "invalid_api_key", message: reason)
    }

    public static func bodyTooLarge(limitBytes: Int) -> SluiceError {
        SluiceError(status: 413, type: "invalid_request_error", code: "request_too_large",
                    message: "The request body is larger than this Sluice accepts (\(limitBytes) bytes; see max_body).")
    }

    public static func rateLimited(retryAfterSeconds: Int, headers: [(String, String)]) -> SluiceError {
        SluiceError(status: 429, type: "rate_limit_exceeded", code: "rate_limit_exceeded",
                    message: "Rate limit reached for this API key. Retry after \(retryAfterSeconds) s.",
                    headers: [("retry-after", String(retryAfterSeconds))] + headers)
    }

    /// The estimate can never fit the key's token bucket, however long it waits.
    /// `x-should-retry: false` tells OpenAI's SDKs not to retry what can never succeed.
    public static func tokensExceedBucket(estimate: Int, capacity: Int) -> SluiceError {
        let amount = estimate == Int.max ? "more tokens than can be counted" : "up to \(estimate) tokens"
        return SluiceError(status: 429, type: "rate_limit_exceeded", code: "rate_limit_exceeded",
                           message: "This request may use \(amount), more than this API key's token limit can ever allow (\(capacity) per minute); lower max_tokens or shorten the prompt.",
                           headers: [("x-should-retry", "false")])
    }

    /// The key's spend has reached a budget cap (or this request's worst case
    /// would pass it): nothing goes upstream until the window resets.
    public static func budgetExhausted(
        cap: BudgetCap, resetsAt: Double, spent: Double, worstCase: Double?, retryAfterSeconds: Int
    ) -> SluiceError {
        let reset = BudgetText.utcTimestamp(resetsAt)
        let budget = "\(cap.window.adjective) budget of \(BudgetText.usd(cap.usd))"
        let message = if spent >= cap.usd || worstCase == nil {
            "This API key has spent its \(budget) (resets \(reset))."
        } else {
            "This request may cost up to \(BudgetText.usd(worstCase ?? 0)), more than is left of this API key's \(budget) (\(BudgetText.usd(max(0, cap.usd - spent))) left, including requests in flight; resets \(reset))."
        }
        return SluiceError(status: 429, type: "insufficient_quota", code: "insufficient_quota", message: message,
                           headers: [("retry-after", String(max(1, retryAfterSeconds)))])
    }

    public static func originNotAllowed() -> SluiceError {
        SluiceError(status: 403, type: "permission_error", code: "origin_not_allowed",
                    message: "Requests from web pages are refused unless their origin is in allowed_origins (SLUICE_ALLOWED_ORIGINS).")
    }

    public static func hostNotAllowed() -> SluiceError {
        SluiceError(status: 403, type: "permission_error", code: "host_not_allowed",
                    message: "This Host is not served: use an IP address or localhost, or add the name to allowed_hosts (SLUICE_ALLOWED_HOSTS).")
    }

    public static func notFound(path: String) -> SluiceError {
        SluiceError(status: 404, type: "invalid_request_error", code: "not_found",
                    message: "Sluice serves /v1/... routes, /healthz and /metrics; nothing at this path.")
    }

    public static func methodNotAllowed() -> SluiceError {
        SluiceError(status: 405, type: "invalid_request_error", code: "method_not_allowed",
                    message: "This route does not accept that method.")
    }

    public static func upstreamUnreachable(_ detail: String) -> SluiceError {
        SluiceError(status: 502, type: "upstream_error", code: "upstream_unreachable",
                    message: "The upstream gateway could not be reached: \(detail).")
    }

    public static func upstreamTimeout(seconds: Int) -> SluiceError {
        SluiceError(status: 504, type: "upstream_error", code: "upstream_timeout",
                    message: "The upstream gateway sent nothing for \(seconds) s (upstream_timeout).")
    }

    public static func noUpstreamCredential() -> SluiceError {
        SluiceError(status: 401, type: "authentication_error", code: "missing_upstream_credential",
                    message: "No API key: send Authorization: Bearer <key>, or give the daemon VERCEL_AI_GATEWAY_API_KEY.")
    }

    public static func shuttingDown() -> SluiceError {
        SluiceError(status: 503, type: "server_error", code: "shutting_down",
                    message: "Sluice is shutting down; retry shortly.")
    }
}
