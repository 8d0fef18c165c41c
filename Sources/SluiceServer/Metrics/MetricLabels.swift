import SluiceCore

/// Label values for Sluice's metrics, each from a small known set so that no
/// input can create an unbounded number of series.
enum MetricLabels {
    /// The label for values past a bound.
    static let other = "other"

    /// Known routes, aliases folded onto their `/v1` form; anything else is `other`.
    static func route(_ path: String) -> String {
        switch path {
        case "/v1/chat/completions", "/chat/completions": "/v1/chat/completions"
        case "/v1/embeddings", "/embeddings": "/v1/embeddings"
        case "/v1/models", "/models": "/v1/models"
        case "/healthz", "/metrics": path
        default: other
        }
    }

    /// The HTTP status code, or `other` outside 100...599.
    static func status(_ code: Int) -> String {
        (100...599).contains(code) ? String(code) : other
    }

    static func cache(_ outcome: CacheOutcome) -> String {
        outcome.rawValue
    }
}

/// The label values of one `sluice_requests_total` series.
struct RequestLabels: Hashable, Sendable {
    var route: String
    var status: String
    var cache: String

    var dimensions: [(String, String)] {
        [("route", route), ("status", status), ("cache", cache)]
    }
}
