import Foundation
import Hummingbird

/// Answers like the Vercel AI Gateway's OpenAI-compatible API under `/v1`,
/// records every request, and misbehaves on request (`FakeGatewayFault`).
struct FakeGatewayResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let recorder: FakeGatewayRecorder
    let behavior: LockedBox<FakeGatewayBehavior>

    /// Thrown inside a body writer to make Hummingbird close the connection mid-answer.
    struct DroppedOnPurpose: Error {}

    func respond(to request: Request, context: Context) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024 * 1024)
        let recorded = RecordedRequest(
            method: request.method.rawValue,
            path: request.uri.string,
            headers: request.headers.map { ($0.name.canonicalName, $0.value) },
            body: Data(buffer: body)
        )
        recorder.record(recorded)

        let behavior = self.behavior.current
        let json = recorded.jsonBody
        let model = json?["model"] as? String ?? "fake/model"
        let streaming = json?["stream"] as? Bool ?? false

        switch behavior.fault ?? FakeGatewayFault(model: model) {
        case .status(let code):
            return answer(FakeGatewayPayloads.error(status: code), status: code, path: recorded.path)
        case .slow(let delay):
            try await Task.sleep(for: delay)
        case .drop:
            return dropMidAnswer(streaming: streaming)
        case .dropAfter(let pause):
            return dropMidAnswer(streaming: streaming, after: pause)
        case .stall:
            return stall(streaming: streaming)
        case nil:
            break
        }
        return route(recorded, json: json ?? [:], model: model, streaming: streaming, behavior: behavior)
    }

    private func route(
        _ request: RecordedRequest, json: [String: Any], model: String, streaming: Bool, behavior: FakeGatewayBehavior
    ) -> Response {
        let path = request.path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.path
        switch (request.method, path) {
        case ("POST", "/v1/chat/completions") where model == FakeGatewayPayloads.toolsModel:
            let echo = Self.lastMessage(in: json)
            guard streaming else {
                return answer(FakeGatewayPayloads.toolsCompletion(model: model, echo: echo, usage: behavior.usage), status: 200, path: request.path)
            }
            let includeUsage = (json["stream_options"] as? [String: Any])?["include_usage"] as? Bool ?? false
            return typedStream(
                FakeGatewayPayloads.toolsStreamEvents(model: model, echo: echo, includeUsage: includeUsage, usage: behavior.usage),
                path: request.path)
        case ("POST", "/v1/chat/completions") where streaming:
            let options = json["stream_options"] as? [String: Any]
            let includeUsage = options?["include_usage"] as? Bool ?? false
            return stream(model: model, includeUsage: includeUsage, behavior: behavior, path: request.path)
        case ("POST", "/v1/chat/completions"):
            let payload = FakeGatewayPayloads.chatCompletion(model: model, echo: Self.lastMessage(in: json), usage: behavior.usage)
            return answer(payload, status: 200, path: request.path)
        case ("POST", "/v1/embeddings"):
            let inputs = (json["input"] as? [Any])?.count ?? 1
            return answer(FakeGatewayPayloads.embeddings(model: model, inputCount: inputs, usage: behavior.usage), status: 200, path: request.path)
        case ("POST", "/v1/responses") where streaming:
            let input = json["input"] as? String ?? ""
            return typedStream(FakeGatewayPayloads.responseEvents(model: model, echo: input, usage: behavior.usage), path: request.path)
        case ("POST", "/v1/messages") where streaming:
            return typedStream(
                FakeGatewayPayloads.anthropicEvents(model: model, echo: Self.lastMessage(in: json), usage: behavior.usage), path: request.path)
        case ("POST", "/v1/responses"):
            let input = json["input"] as? String ?? Self.lastMessage(in: ["messages": json["input"] ?? []])
            return answer(FakeGatewayPayloads.response(model: model, echo: input, usage: behavior.usage), status: 200, path: request.path)
        case ("POST", "/v1/messages"):
            let payload = FakeGatewayPayloads.anthropicMessage(model: model, echo: Self.lastMessage(in: json), usage: behavior.usage)
            return answer(payload, status: 200, path: request.path)
        case ("POST", "/v1/completions"):
            let prompt = json["prompt"] as? String ?? ""
            return answer(FakeGatewayPayloads.textCompletion(model: model, echo: prompt, usage: behavior.usage), status: 200, path: request.path)
        case ("GET", "/v1/models"):
            return answer(FakeGatewayPayloads.models(pricing: behavior.pricing), status: 200, path: request.path)
        default:
            return answer(FakeGatewayPayloads.echo(method: request.method, path: request.path, body: request.body), status: 200, path: request.path)
        }
    }

    private static func lastMessage(in json: [String: Any]) -> String {
        let messages = json["messages"] as? [[String: Any]]
        return messages?.last?["content"] as? String ?? ""
    }

    private func answer(_ payload: Data, status: Int, path: String) -> Response {
        recorder.record(RecordedAnswer(path: path, status: status, body: payload))
        return Response(
            status: .init(code: status),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: payload))
        )
    }

    private func stream(model: String, includeUsage: Bool, behavior: FakeGatewayBehavior, path: String) -> Response {
        let recorder = self.recorder
        let count = max(behavior.streamChunkCount, 1)
        let body = ResponseBody { writer in
            var sent = Data()
            do {
                for index in 0..<count {
                    if index > 0, behavior.streamChunkDelay > .zero {
                        try await Task.sleep(for: behavior.streamChunkDelay)
                    }
                    let isLast = index == count - 1
                    var chunk = FakeGatewayPayloads.streamChunk(
                        model: model, index: index, isLast: isLast, usage: includeUsage ? behavior.usage : nil
                    )
                    if behavior.streamChunkPadding > 0 {
                        chunk += Data(": ".utf8) + Data(repeating: UInt8(ascii: "x"), count: behavior.streamChunkPadding) + Data("\n\n".utf8)
                    }
                    try await writer.write(ByteBuffer(bytes: chunk))
                    sent += chunk
                }
                try await writer.write(ByteBuffer(bytes: FakeGatewayPayloads.streamDone))
                sent += FakeGatewayPayloads.streamDone
                try await writer.finish(nil)
            } catch {
                recorder.recordCancelledAnswer(path: path)
                throw error
            }
            recorder.record(RecordedAnswer(path: path, status: 200, body: sent))
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    /// A stream of SSE events (typed `event:` and `data:` lines, or `data:` only), sent one by one.
    private func typedStream(_ events: [Data], path: String) -> Response {
        let recorder = self.recorder
        let body = ResponseBody { writer in
            var sent = Data()
            for event in events {
                try await writer.write(ByteBuffer(bytes: event))
                sent += event
            }
            try await writer.finish(nil)
            recorder.record(RecordedAnswer(path: path, status: 200, body: sent))
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: body)
    }

    private func dropMidAnswer(streaming: Bool, after pause: Duration = .zero) -> Response {
        let body = ResponseBody { writer in
            let partial = streaming
                ? FakeGatewayPayloads.streamChunk(model: "drop", index: 0, isLast: false, usage: nil)
                : Data(#"{"id":"chatcmpl-fake","object":"chat.comp"#.utf8)
            try await writer.write(ByteBuffer(bytes: partial))
            if pause > .zero { try await Task.sleep(for: pause) }
            throw DroppedOnPurpose()
        }
        var headers: HTTPFields = [.contentType: streaming ? "text/event-stream" : "application/json"]
        if !streaming {
            headers[.contentLength] = "4096"
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    private func stall(streaming: Bool) -> Response {
        let recorder = self.recorder
        let body = ResponseBody { _ in
            do {
                // Nothing more is sent; the peer's hang-up or the gateway's stop ends this.
                try await Task.sleep(for: .seconds(120))
            } catch {
                recorder.recordCancelledAnswer(path: "stall")
                throw error
            }
        }
        return Response(status: .ok, headers: [.contentType: streaming ? "text/event-stream" : "application/json"], body: body)
    }
}
