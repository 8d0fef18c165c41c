import NIOHTTP1
import SluiceCore

/// What a request path names, after the optional `/v1` prefix is dropped.
enum ProxyRoute: Sendable, Equatable {
    case chatCompletions
    case embeddings
    /// OpenAI's Responses API.
    case responses
    /// OpenAI's legacy text completions.
    case completions
    /// Anthropic's Messages API, which the gateway serves too.
    case messages
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
        case "/responses": self = .responses
        case "/completions": self = .completions
        case "/messages": self = .messages
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
        case .responses: return "/responses"
        case .completions: return "/completions"
        case .messages: return "/messages"
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

    /// The model APIs: their bodies are JSON objects and their answers may be cached.
    private var isModelAPI: Bool {
        switch self {
        case .chatCompletions, .embeddings, .responses, .completions, .messages: true
        case .models, .other: false
        }
    }

    /// What differs about this model API (streams, conversions, key members); nil for the rest.
    var api: (any LLMAPI)? {
        switch self {
        case .chatCompletions: ChatCompletionsAPI()
        case .embeddings: EmbeddingsAPI()
        case .responses: ResponsesAPI()
        case .completions: TextCompletionsAPI()
        case .messages: AnthropicMessagesAPI()
        case .models, .other: nil
        }
    }

    /// Whether the body must be a JSON object (400 otherwise).
    var requiresJSONBody: Bool { isModelAPI }

    /// Answers on this route may be cached (streams too, see `LLMAPI`).
    var isCacheable: Bool { isModelAPI }

    func accepts(_ method: HTTPMethod) -> Bool {
        switch self {
        case .chatCompletions, .embeddings, .responses, .completions, .messages: return method == .POST
        case .models: return method == .GET
        case .other: return true
        }
    }
}
