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

    // MARK: `fake/tools`: two choices, a tool call, logprobs and refusal

    /// The model name that makes chat answers richer: choice 0 is text with
    /// `logprobs` and `refusal: null`, choice 1 a `get_weather` tool call.
    static let toolsModel = "fake/tools"
    static let toolCallID = "call_fake_1"
    static let toolName = "get_weather"
    static let toolArgumentPieces = [#"{"city":"#, #""Paris"}"#]

    private static func toolsTextPieces(echo: String) -> [String] { ["echo: ", echo] }

    private static func logprob(_ token: String, _ index: Int) -> [String: Any] {
        ["token": token, "logprob": -0.25 * Double(index + 1), "bytes": Array(token.utf8).map(Int.init), "top_logprobs": [Any]()]
    }

    /// The plain `fake/tools` answer.
    static func toolsCompletion(model: String, echo: String, usage: FakeUsage) -> Data {
        let pieces = toolsTextPieces(echo: echo)
        return encode([
            "id": "chatcmpl-fake-tools", "object": "chat.completion", "created": created, "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [
                [
                    "index": 0,
                    "message": ["role": "assistant", "content": pieces.joined(), "refusal": NSNull()] as [String: Any],
                    "logprobs": ["content": pieces.enumerated().map { logprob($1, $0) }, "refusal": NSNull()] as [String: Any],
                    "finish_reason": "stop",
                ] as [String: Any],
                [
                    "index": 1,
                    "message": [
                        "role": "assistant", "content": NSNull(), "refusal": NSNull(),
                        "tool_calls": [[
                            "id": toolCallID, "type": "function",
                            "function": ["name": toolName, "arguments": toolArgumentPieces.joined()],
                        ] as [String: Any]],
                    ] as [String: Any],
                    "logprobs": NSNull(),
                    "finish_reason": "tool_calls",
                ] as [String: Any],
            ],
            "usage": usageObject(usage),
        ])
    }

    /// The streamed `fake/tools` answer, as OpenAI streams `n: 2`: a role chunk,
    /// content pieces (with logprobs) for choice 0; a role chunk opening the tool
    /// call, then argument pieces by `index`, for choice 1; a finish chunk per
    /// choice; then, when asked for, a usage chunk with no choices; then `[DONE]`.
    static func toolsStreamEvents(model: String, echo: String, includeUsage: Bool, usage: FakeUsage) -> [Data] {
        func chunk(_ choice: [String: Any]) -> Data {
            var object: [String: Any] = [
                "id": "chatcmpl-fake-tools", "object": "chat.completion.chunk", "created": created, "model": model,
                "system_fingerprint": "fp_fake", "choices": [choice],
            ]
            if includeUsage { object["usage"] = NSNull() }
            return sseEvent(encode(object))
        }
        func choice(_ index: Int, _ delta: [String: Any], logprobs: Any = NSNull(), finish: Any = NSNull()) -> [String: Any] {
            ["index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish]
        }
        var events = [chunk(choice(0, ["role": "assistant", "content": "", "refusal": NSNull()]))]
        for (index, piece) in toolsTextPieces(echo: echo).enumerated() {
            events.append(chunk(choice(0, ["content": piece],
                                       logprobs: ["content": [logprob(piece, index)], "refusal": NSNull()] as [String: Any])))
        }
        events.append(chunk(choice(1, [
            "role": "assistant", "content": NSNull(),
            "tool_calls": [["index": 0, "id": toolCallID, "type": "function",
                            "function": ["name": toolName, "arguments": ""]] as [String: Any]],
        ])))
        for piece in toolArgumentPieces {
            events.append(chunk(choice(1, ["tool_calls": [["index": 0, "function": ["arguments": piece]] as [String: Any]]])))
        }
        events.append(chunk(choice(0, [:], finish: "stop")))
        events.append(chunk(choice(1, [:], finish: "tool_calls")))
        if includeUsage {
            events.append(sseEvent(encode([
                "id": "chatcmpl-fake-tools", "object": "chat.completion.chunk", "created": created, "model": model,
                "system_fingerprint": "fp_fake", "choices": [Any](), "usage": usageObject(usage),
            ])))
        }
        return events + [streamDone]
    }

    /// An OpenAI Responses API answer (`object: response`), usage in `input_tokens`/`output_tokens`.
    static func response(model: String, echo: String, usage: FakeUsage) -> Data {
        encode([
            "id": "resp_fake", "object": "response", "created_at": created, "status": "completed", "model": model,
            "output": [[
                "type": "message", "id": "msg_fake", "status": "completed", "role": "assistant",
                "content": [["type": "output_text", "text": "echo: \(echo)", "annotations": [Any]()] as [String: Any]],
            ] as [String: Any]],
            "usage": [
                "input_tokens": usage.promptTokens, "output_tokens": usage.completionTokens,
                "total_tokens": usage.totalTokens, "cost": usage.cost,
                "input_tokens_details": ["cached_tokens": usage.cachedTokens],
                "output_tokens_details": ["reasoning_tokens": 0],
            ] as [String: Any],
        ])
    }

    /// A Responses API stream: `response.created`, text deltas, `response.completed` with usage.
    static func responseEvents(model: String, echo: String, usage: FakeUsage) -> [Data] {
        let completed = (try? JSONSerialization.jsonObject(with: response(model: model, echo: echo, usage: usage))) ?? [:]
        return [
            typedEvent("response.created", ["type": "response.created", "sequence_number": 0,
                                            "response": ["id": "resp_fake", "object": "response", "status": "in_progress", "model": model, "output": [Any]()] as [String: Any]]),
            typedEvent("response.output_text.delta", ["type": "response.output_text.delta", "sequence_number": 1,
                                                      "item_id": "msg_fake", "output_index": 0, "content_index": 0, "delta": "echo: "]),
            typedEvent("response.output_text.delta", ["type": "response.output_text.delta", "sequence_number": 2,
                                                      "item_id": "msg_fake", "output_index": 0, "content_index": 0, "delta": echo]),
            typedEvent("response.completed", ["type": "response.completed", "sequence_number": 3, "response": completed]),
        ]
    }

    /// An Anthropic Messages stream: `message_start` … `message_stop`; input
    /// tokens on `message_start`, output tokens on `message_delta`.
    static func anthropicEvents(model: String, echo: String, usage: FakeUsage) -> [Data] {
        [
            typedEvent("message_start", ["type": "message_start", "message": [
                "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [Any](),
                "stop_reason": NSNull(), "stop_sequence": NSNull(),
                // Anthropic's input_tokens leaves out the tokens read from its prompt cache.
                "usage": ["input_tokens": usage.promptTokens - usage.cachedTokens, "output_tokens": 1,
                          "cache_read_input_tokens": usage.cachedTokens, "cache_creation_input_tokens": 0],
            ] as [String: Any]]),
            typedEvent("content_block_start", ["type": "content_block_start", "index": 0, "content_block": ["type": "text", "text": ""]]),
            typedEvent("content_block_delta", ["type": "content_block_delta", "index": 0,
                                               "delta": ["type": "text_delta", "text": "echo: \(echo)"]]),
            typedEvent("content_block_stop", ["type": "content_block_stop", "index": 0]),
            typedEvent("message_delta", ["type": "message_delta", "delta": ["stop_reason": "end_turn", "stop_sequence": NSNull()] as [String: Any],
                                         "usage": ["output_tokens": usage.completionTokens]]),
            typedEvent("message_stop", ["type": "message_stop"]),
        ]
    }

    private static func typedEvent(_ name: String, _ object: [String: Any]) -> Data {
        Data("event: \(name)\n".utf8) + sseEvent(encode(object))
    }

    /// An Anthropic Messages API answer (`type: message`).
    static func anthropicMessage(model: String, echo: String, usage: FakeUsage) -> Data {
        encode([
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": [["type": "text", "text": "echo: \(echo)"]],
            "stop_reason": "end_turn", "stop_sequence": NSNull(),
            "usage": [
                "input_tokens": usage.promptTokens - usage.cachedTokens, "output_tokens": usage.completionTokens,
                "cache_read_input_tokens": usage.cachedTokens, "cache_creation_input_tokens": 0,
            ],
        ])
    }

    /// A legacy completions answer (`object: text_completion`).
    static func textCompletion(model: String, echo: String, usage: FakeUsage) -> Data {
        encode([
            "id": "cmpl-fake", "object": "text_completion", "created": created, "model": model,
            "choices": [["text": "echo: \(echo)", "index": 0, "logprobs": NSNull(), "finish_reason": "stop"] as [String: Any]],
            "usage": usageObject(usage),
        ])
    }

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

    static func models(pricing: FakePricing? = .standard) -> Data {
        let model: (String) -> [String: Any] = { id in
            var entry: [String: Any] = [
                "id": id,
                "object": "model",
                "created": created,
                "owned_by": String(id.prefix { $0 != "/" }),
            ]
            if let pricing { entry["pricing"] = ["input": pricing.input, "output": pricing.output] }
            return entry
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
