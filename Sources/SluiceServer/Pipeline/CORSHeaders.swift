/// The CORS headers for a web origin listed in `allowed_origins`.
enum CORSHeaders {
    /// Added to every answer to an allowed origin's request.
    static func forAnswer(origin: String) -> [(String, String)] {
        [
            ("access-control-allow-origin", origin),
            ("vary", "origin"),
            ("access-control-expose-headers", exposed),
        ]
    }

    /// The answer to a preflight (`OPTIONS` with `access-control-request-method`);
    /// `access-control-allow-origin` comes from `forAnswer`.
    static let preflight: [(String, String)] = [
        ("access-control-allow-methods", "GET, POST, OPTIONS"),
        ("access-control-allow-headers", "authorization, content-type, x-api-key, anthropic-version, cache-control"),
        ("access-control-max-age", "600"),
    ]

    /// Sluice's own answer headers a page may read.
    private static let exposed = [
        "x-sluice-cache", "age", "retry-after",
        "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
        "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens",
    ].joined(separator: ", ")
}
