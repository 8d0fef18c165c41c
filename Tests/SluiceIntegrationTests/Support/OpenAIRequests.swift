import Foundation

/// Request bodies a client of the OpenAI API would send.
enum OpenAIRequests {
    static let model = "openai/gpt-4o-mini"

    /// A chat completion whose single user message is `content`; `model` may be
    /// a fake gateway magic name (`FakeGatewayFault`).
    static func chat(_ content: String, model: String = model, stream: Bool = false, includeUsage: Bool = true) -> Data {
        var body: [String: Any] = [
            "model": model,
            "messages": [["role": "user", "content": content]],
        ]
        if stream {
            body["stream"] = true
            if includeUsage {
                body["stream_options"] = ["include_usage": true]
            }
        }
        return json(body)
    }

    static func embeddings(_ inputs: [String], model: String = "openai/text-embedding-3-small") -> Data {
        json(["model": model, "input": inputs])
    }

    static func json(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }
}
