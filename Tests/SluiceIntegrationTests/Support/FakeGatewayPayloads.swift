import Foundation

/// The JSON bodies the fake gateway sends, shaped like the Vercel AI Gateway's.
enum FakeGatewayPayloads {
    static let created = 1_767_225_600

    /// A non-streaming `chat.completion` that echoes the model and the last message.
    static func chatCompletion(model: String, echo: String, usage: FakeUsage) -> Data {
        encode([
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [[
                "index": 0,
                "message": ["role": "assistant", "content": "echo: \(echo)"],
                "finish_reason": "stop",
            ] as [String: Any]],
            "usage": usageObject(usage),
        ])
    }

    /// One SSE event of a streamed answer; the last content chunk carries
    /// `finish_reason` and, when asked for, `usage` together (as Vercel sends it).
    static func streamChunk(model: String, index: Int, isLast: Bool, usage: FakeUsage?) -> Data {
        var choice: [String: Any] = [
            "index": 0,
            "delta": ["content": "part\(index) "],
            "finish_reason": isLast ? "stop" : NSNull(),
        ]
        if index == 0 {
            choice["delta"] = ["role": "assistant", "content": "part0 "]
        }
        var chunk: [String: Any] = [
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [choice],
        ]
        if isLast, let usage {
            chunk["usage"] = usageObject(usage)
        }
        return sseEvent(encode(chunk))
    }

    static let streamDone = Data("data: [DONE]\n\n".utf8)

    static func embeddings(model: String, inputCount: Int, usage: FakeUsage) -> Data {
        let vectors: [[String: Any]] = (0..<max(inputCount, 1)).map { index in
            ["object": "embedding", "index": index, "embedding": [0.125, -0.25, Double(index)]]
        }
        return encode([
            "object": "list",
            "data": vectors,
            "model": model,
            "usage": ["prompt_tokens": usage.promptTokens, "total_tokens": usage.promptTokens, "cost": usage.cost] as [String: Any],
        ])
    }

    static func models() -> Data {
        let model: (String) -> [String: Any] = { id in
            [
                "id": id,
                "object": "model",
                "created": created,
                "owned_by": String(id.prefix { $0 != "/" }),
                "pricing": ["input": "0.00000015", "output": "0.0000006"],
            ]
        }
        return encode(["object": "list", "data": [model("openai/gpt-4o-mini"), model("anthropic/claude-sonnet-4")]])
    }

    /// Vercel's error body: `{"error":{"message","type","param","code"}}`.
    static func error(status: Int) -> Data {
        let (type, code): (String, String) = switch status {
        case 401: ("authentication_error", "invalid_api_key")
        case 404: ("model_not_found", "model_not_found")
        case 429: ("rate_limit_exceeded", "rate_limit_exceeded")
        case 400..<500: ("invalid_request_error", "invalid_request")
        default: ("internal_server_error", "internal_error")
        }
        return encode(["error": [
            "message": "fake gateway failure \(status)",
            "type": type,
            "param": NSNull(),
            "code": code,
        ] as [String: Any]])
    }

    /// Echo of any other request: its method, path and body text.
    static func echo(method: String, path: String, body: Data) -> Data {
        encode(["echo": ["method": method, "path": path, "body": String(decoding: body, as: UTF8.self)]])
    }

    private static func usageObject(_ usage: FakeUsage) -> [String: Any] {
        [
            "prompt_tokens": usage.promptTokens,
            "completion_tokens": usage.completionTokens,
            "total_tokens": usage.totalTokens,
            "cost": usage.cost,
            "prompt_tokens_details": ["cached_tokens": usage.cachedTokens],
        ]
    }

    private static func sseEvent(_ json: Data) -> Data {
        Data("data: ".utf8) + json + Data("\n\n".utf8)
    }

    private static func encode(_ object: [String: Any]) -> Data {
        // Every payload above is built from JSON-compatible literals, so this cannot fail.
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}
