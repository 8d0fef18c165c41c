/// OpenAI's chat completions (`/v1/chat/completions`). `stream` and
/// `stream_options` are not part of the cache key: one stored answer, kept as
/// a plain `chat.completion`, serves a plain request as it is and a streamed
/// one as `chat.completion.chunk` events; a stream is assembled into that
/// plain form before it is stored.
///
/// Conversions keep every choice (`n`), the role, content, refusal, reasoning
/// text, tool calls, log probabilities and finish reasons. Anything else in a
/// message or delta (audio, a legacy `function_call`, annotations) cannot be
/// converted exactly, so the conversion gives `nil`.
public struct ChatCompletionsAPI: LLMAPI {
    public init() {}

    public var membersOutsideKey: Set<String> { ["stream", "stream_options"] }
    public var storesStreamsAsPlainAnswers: Bool { true }

    public func endsNormally(_ events: [ServerSentEvent]) -> Bool {
        events.last?.isDone ?? false
    }

    /// Text members of a message that a stream sends in pieces.
    static let textMembers = ["content", "refusal", "reasoning", "reasoning_content"]
    /// Top-level members a chunk shares with the plain answer.
    static let sharedMembers = ["id", "created", "model", "system_fingerprint", "service_tier"]

    // MARK: Stream → plain

    public func plainAnswer(fromStream events: [ServerSentEvent]) -> [UInt8]? {
        var header: [String: JSONValue] = [:]
        var choices: [Int: ChoiceAssembly] = [:]
        var usage: JSONValue?
        for event in events where !event.isDone {
            guard let chunk = try? JSONParser.parse(event.data), chunk["object"]?.stringValue == "chat.completion.chunk",
                  case .array(let chunkChoices)? = chunk["choices"] else { return nil }
            for name in Self.sharedMembers where header[name] == nil {
                if let value = chunk[name], value != .null { header[name] = value }
            }
            if let chunkUsage = chunk["usage"], chunkUsage != .null { usage = chunkUsage }
            for choice in chunkChoices {
                guard let index = choice["index"]?.intValue, index >= 0, index < 128 else { return nil }
                guard choices[index, default: ChoiceAssembly()].add(choice) else { return nil }
            }
        }
        guard !choices.isEmpty, header["id"] != nil else { return nil }
        var members = [JSONMember(name: "id", value: header["id"]!), JSONMember(name: "object", value: .string("chat.completion"))]
        for name in Self.sharedMembers.dropFirst() {
            if let value = header[name] { members.append(JSONMember(name: name, value: value)) }
        }
        var assembled: [JSONValue] = []
        for index in choices.keys.sorted() {
            guard let choice = choices[index]?.plainChoice(index: index) else { return nil }
            assembled.append(choice)
        }
        members.append(JSONMember(name: "choices", value: .array(assembled)))
        if let usage { members.append(JSONMember(name: "usage", value: usage)) }
        return CanonicalJSON.encode(.object(members))
    }

    /// One choice being put together from its deltas.
    struct ChoiceAssembly {
        var role: JSONValue?
        /// Concatenated text of each text member that appeared.
        var texts: [String: String] = [:]
        var toolCalls: [Int: ToolCallAssembly] = [:]
        var logprobContent: [JSONValue]?
        var logprobRefusal: [JSONValue]?
        var finishReason: JSONValue = .null

        /// Adds one chunk's choice; false when it holds something that cannot be assembled exactly.
        mutating func add(_ choice: JSONValue) -> Bool {
            guard case .object(let members) = choice else { return false }
            for member in members {
                switch member.name {
                case "index": continue
                case "finish_reason": if member.value != .null { finishReason = member.value }
                case "logprobs": guard addLogprobs(member.value) else { return false }
                case "delta": guard addDelta(member.value) else { return false }
                default: return false
                }
            }
            return true
        }

        private mutating func addDelta(_ delta: JSONValue) -> Bool {
            guard case .object(let members) = delta else { return false }
            for member in members {
                switch member.name {
                case "role":
                    role = member.value
                case let name where ChatCompletionsAPI.textMembers.contains(name):
                    switch member.value {
                    case .null: continue
                    case .string(let piece): texts[name, default: ""] += piece
                    default: return false
                    }
                case "tool_calls":
                    guard case .array(let calls) = member.value else { return false }
                    for call in calls {
                        guard let index = call["index"]?.intValue, index >= 0, index < 128,
                              toolCalls[index, default: ToolCallAssembly()].add(call) else { return false }
                    }
                default:
                    return false
                }
            }
            return true
        }

        private mutating func addLogprobs(_ logprobs: JSONValue) -> Bool {
            guard logprobs != .null else { return true }
            guard case .object(let members) = logprobs else { return false }
            for member in members {
                guard member.value != .null else { continue }
                guard case .array(let items) = member.value else { return false }
                switch member.name {
                case "content": logprobContent = (logprobContent ?? []) + items
                case "refusal": logprobRefusal = (logprobRefusal ?? []) + items
                default: return false
                }
            }
            return true
        }

        func plainChoice(index: Int) -> JSONValue? {
            var message = [JSONMember(name: "role", value: role ?? .string("assistant"))]
            message.append(JSONMember(name: "content", value: texts["content"].map(JSONValue.string) ?? .null))
            message.append(JSONMember(name: "refusal", value: texts["refusal"].map(JSONValue.string) ?? .null))
            for name in ["reasoning", "reasoning_content"] {
                if let text = texts[name] { message.append(JSONMember(name: name, value: .string(text))) }
            }
            if !toolCalls.isEmpty {
                var calls: [JSONValue] = []
                for callIndex in toolCalls.keys.sorted() {
                    guard let call = toolCalls[callIndex]?.plainCall else { return nil }
                    calls.append(call)
                }
                message.append(JSONMember(name: "tool_calls", value: .array(calls)))
            }
            var logprobs: JSONValue = .null
            if logprobContent != nil || logprobRefusal != nil {
                logprobs = .object([
                    JSONMember(name: "content", value: logprobContent.map(JSONValue.array) ?? .null),
                    JSONMember(name: "refusal", value: logprobRefusal.map(JSONValue.array) ?? .null),
                ])
            }
            return .object([
                JSONMember(name: "index", value: .number(String(index))),
                JSONMember(name: "message", value: .object(message)),
                JSONMember(name: "logprobs", value: logprobs),
                JSONMember(name: "finish_reason", value: finishReason),
            ])
        }
    }

    /// One tool call put together from its pieces: the first `id`, `type` and
    /// function `name`, the concatenated `arguments`.
    struct ToolCallAssembly {
        var id: JSONValue?
        var type: JSONValue?
        var name: String?
        var arguments = ""

        mutating func add(_ call: JSONValue) -> Bool {
            guard case .object(let members) = call else { return false }
            for member in members {
                switch member.name {
                case "index": continue
                case "id": if id == nil, member.value != .null { id = member.value }
                case "type": if type == nil, member.value != .null { type = member.value }
                case "function":
                    guard case .object(let function) = member.value else { return false }
                    for part in function {
                        switch (part.name, part.value) {
                        case ("name", .string(let piece)): name = (name ?? "") + piece
                        case ("arguments", .string(let piece)): arguments += piece
                        case (_, .null): continue
                        default: return false
                        }
                    }
                default:
                    return false
                }
            }
            return true
        }

        var plainCall: JSONValue? {
            guard let id, let name else { return nil }
            return .object([
                JSONMember(name: "id", value: id),
                JSONMember(name: "type", value: type ?? .string("function")),
                JSONMember(name: "function", value: .object([
                    JSONMember(name: "name", value: .string(name)),
                    JSONMember(name: "arguments", value: .string(arguments)),
                ])),
            ])
        }
    }

    // MARK: Plain → stream

    public func stream(fromPlain answer: [UInt8], includeUsage: Bool) -> [UInt8]? {
        guard let plain = try? JSONParser.parse(answer), plain["object"]?.stringValue == "chat.completion",
              case .array(let choices)? = plain["choices"] else { return nil }
        var header = [JSONMember(name: "id", value: plain["id"] ?? .string("chatcmpl-sluice")),
                      JSONMember(name: "object", value: .string("chat.completion.chunk"))]
        for name in Self.sharedMembers.dropFirst() {
            if let value = plain[name] { header.append(JSONMember(name: name, value: value)) }
        }
        func chunk(_ choices: [JSONValue], usage: JSONValue? = nil) -> [UInt8] {
            var members = header + [JSONMember(name: "choices", value: .array(choices))]
            if let usage { members.append(JSONMember(name: "usage", value: usage)) }
            return ServerSentEvent(name: nil, data: CanonicalJSON.encode(.object(members))).bytes
        }
        var output: [UInt8] = []
        for choice in choices {
            guard let index = choice["index"], case .object(let message)? = choice["message"] else { return nil }
            var delta: [JSONMember] = []
            for member in message {
                switch member.name {
                case "role":
                    delta.append(member)
                case let name where Self.textMembers.contains(name):
                    guard member.value == .null || member.value.stringValue != nil else { return nil }
                    if member.value != .null || name == "content" { delta.append(member) }
                case "tool_calls":
                    guard case .array(let calls) = member.value, let indexed = Self.indexedToolCalls(calls) else { return nil }
                    delta.append(JSONMember(name: "tool_calls", value: .array(indexed)))
                case "annotations":
                    // An empty list says nothing; a filled one has no exact stream form here.
                    guard member.value == .array([]) || member.value == .null else { return nil }
                default:
                    return nil
                }
            }
            guard Self.onlyMembers(["index", "message", "logprobs", "finish_reason"], in: choice) else { return nil }
            output += chunk([.object([
                JSONMember(name: "index", value: index),
                JSONMember(name: "delta", value: .object(delta)),
                JSONMember(name: "logprobs", value: choice["logprobs"] ?? .null),
                JSONMember(name: "finish_reason", value: .null),
            ])])
            output += chunk([.object([
                JSONMember(name: "index", value: index),
                JSONMember(name: "delta", value: .object([])),
                JSONMember(name: "logprobs", value: .null),
                JSONMember(name: "finish_reason", value: choice["finish_reason"] ?? .null),
            ])])
        }
        if includeUsage, let usage = plain["usage"], usage != .null {
            output += chunk([], usage: usage)
        }
        output += Array("data: [DONE]\n\n".utf8)
        return output
    }

    /// Tool calls as stream deltas carry their position as `index`.
    private static func indexedToolCalls(_ calls: [JSONValue]) -> [JSONValue]? {
        var indexed: [JSONValue] = []
        for (position, call) in calls.enumerated() {
            guard case .object(let members) = call, onlyMembers(["id", "type", "function"], in: call) else { return nil }
            indexed.append(.object([JSONMember(name: "index", value: .number(String(position)))] + members))
        }
        return indexed
    }

    private static func onlyMembers(_ allowed: Set<String>, in value: JSONValue) -> Bool {
        guard case .object(let members) = value else { return false }
        return members.allSatisfy { allowed.contains($0.name) }
    }
}
