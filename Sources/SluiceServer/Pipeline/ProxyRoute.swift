import NIOHTTP1

/// What a request path names, after the optional `/v1` prefix is dropped.
enum ProxyRoute: Sendable, Equatable {
    case chatCompletions
    case embeddings
    case models
    /// Any other `/v1/...` path: forwarded as is, never cached.
    case other(String)

    /// Classifies a path; nil when Sluice serves nothing there. Paths with dot
    /// segments (`/v1/../credits`) are refused so nothing escapes `/v1` upstream.
    init?(path: Substring) {
        guard !path.split(separator: "/").contains(where: Self.isDotSegment) else { return nil }
        let below: Substring
        if path.hasPrefix("/v1/") {
            below = path.dropFirst(3)
        } else if path == "/chat/completions" || path == "/embeddings" || path == "/models" {
            below = path
        } else {
            return nil
        }
        switch below {
        case "/chat/completions": self = .chatCompletions
        case "/embeddings": self = .embeddings
        case "/models": self = .models
        default:
            guard below.count > 1 else { return nil }
            self = .other(String(below))
        }
    }

    private static func isDotSegment(_ segment: Substring) -> Bool {
        [".", "..", "%2e", "%2e%2e", ".%2e", "%2e."].contains(segment.lowercased())
    }

    /// The path below the upstream base URL.
    var upstreamPath: String {
        switch self {
        case .chatCompletions: return "/chat/completions"
        case .embeddings: return "/embeddings"
        case .models: return "/models"
        case .other(let path): return path
        }
    }

    /// The route as recorded in usage rows and metrics (bounded set for metrics).
    var recordedName: String { "/v1" + upstreamPath }

    var metricLabel: String {
        switch self {
        case .other: return "other"
        default: return recordedName
        }
    }

    /// Whether the body must be a JSON object (400 otherwise).
    var requiresJSONBody: Bool {
        self == .chatCompletions || self == .embeddings
    }

    /// Non-streaming answers on this route may be cached.
    var isCacheable: Bool {
        self == .chatCompletions || self == .embeddings
    }

    func accepts(_ method: HTTPMethod) -> Bool {
        switch self {
        case .chatCompletions, .embeddings: return method == .POST
        case .models: return method == .GET
        case .other: return true
        }
    }
}
