import SluiceCore
import XCTest

/// One stored chat answer serves both shapes: plain ↔ `chat.completion.chunk`
/// events, exactly, or not at all.
final class ChatCompletionsAPITests: XCTestCase {
    private let api = ChatCompletionsAPI()

    private func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }
    private func events(_ text: String) -> [ServerSentEvent] { ServerSentEvents.parse(Array(text.utf8)) }

    /// Two choices (`n: 2`), a refusal, reasoning text, tool calls, log probabilities.
    private let richAnswer = #"""
    {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"openai/gpt-4o","system_fingerprint":"fp_1",
     "choices":[
      {"index":0,"message":{"role":"assistant","content":"Hi there","refusal":null,"reasoning":"think"},
       "logprobs":{"content":[{"token":"Hi","logprob":-0.1,"bytes":[72,105],"top_logprobs":[]}],"refusal":null},"finish_reason":"stop"},
      {"index":1,"message":{"role":"assistant","content":null,"refusal":null,
        "tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                      {"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
       "logprobs":null,"finish_reason":"tool_calls"}],
     "usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19,"cost":0.000245}}
    """#

    func testAPlainAnswerBecomesAStreamAndBackExactly() throws {
        let stream = try XCTUnwrap(api.stream(fromPlain: Array(richAnswer.utf8), includeUsage: true))
        let parsed = ServerSentEvents.parse(stream)
        XCTAssertTrue(api.endsNormally(parsed), "ends in [DONE]")
        XCTAssertEqual(try JSONParser.parse(parsed.dropLast().last!.data)["usage"]?["total_tokens"], .number("19"),
                       "the usage chunk, asked for, comes last")
        let chunk = try JSONParser.parse(parsed[0].data)
        XCTAssertEqual(chunk["object"], .string("chat.completion.chunk"))
        let back = try XCTUnwrap(api.plainAnswer(fromStream: parsed))
        XCTAssertEqual(try JSONParser.parse(back).canonicalText, try json(richAnswer).canonicalText)
    }

    func testTheUsageChunkOnlyWhenAskedFor() throws {
        let stream = try XCTUnwrap(api.stream(fromPlain: Array(richAnswer.utf8), includeUsage: false))
        let parsed = ServerSentEvents.parse(stream)
        XCTAssertFalse(parsed.contains { (try? JSONParser.parse($0.data))?["usage"] != nil })
        let back = try XCTUnwrap(api.plainAnswer(fromStream: parsed))
        XCTAssertNil(try JSONParser.parse(back)["usage"])
    }

    /// As OpenAI streams it: role first, text and tool-call arguments in
    /// pieces, finish reason last, usage in a chunk of its own.
    func testAStreamInPiecesAddsUpToThePlainAnswer() throws {
        let stream = events(#"""
        data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

        data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}]}

        data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo"},"logprobs":null,"finish_reason":null}]}

        data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"f","arguments":""}}]},"logprobs":null,"finish_reason":null}]}

        data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]},"logprobs":null,"finish_reason":null}]}

        data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"logprobs":null,"finish_reason":null}]}

        data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}

        data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}

        data: [DONE]


        """#)
        XCTAssertTrue(api.endsNormally(stream))
        let plain = try JSONParser.parse(try XCTUnwrap(api.plainAnswer(fromStream: stream)))
        XCTAssertEqual(plain["object"], .string("chat.completion"))
        let message = plain["choices"].flatMap { if case .array(let c) = $0 { c.first } else { nil } }?["message"]
        XCTAssertEqual(message?["content"], .string("Hello"))
        let call = message?["tool_calls"].flatMap { if case .array(let c) = $0 { c.first } else { nil } }
        XCTAssertEqual(call?["id"], .string("call_9"))
        XCTAssertEqual(call?["function"]?["arguments"], .string(#"{"a":1}"#))
        XCTAssertNil(call?["index"], "the stream's index is not part of a plain tool call")
        XCTAssertEqual(plain["usage"]?["total_tokens"], .number("7"))
    }

    func testTheGatewaysUsageOnTheLastContentChunkIsKept() throws {
        let stream = events("""
        data: {"id":"v","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"ok"},"finish_reason":null}]}

        data: {"id":"v","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"cost":0.5}}

        data: [DONE]

        """)
        let plain = try JSONParser.parse(try XCTUnwrap(api.plainAnswer(fromStream: stream)))
        XCTAssertEqual(plain["usage"]?["cost"], .number("0.5"))
    }

    func testWhatCannotBeConvertedExactlyIsNot() throws {
        let audio = #"{"id":"a","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"audio":{"id":"x"}},"logprobs":null,"finish_reason":"stop"}]}"#
        XCTAssertNil(api.stream(fromPlain: Array(audio.utf8), includeUsage: false), "audio has no stream form here")
        let annotated = #"{"id":"a","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"x","annotations":[{"type":"url_citation"}]},"logprobs":null,"finish_reason":"stop"}]}"#
        XCTAssertNil(api.stream(fromPlain: Array(annotated.utf8), includeUsage: false))
        XCTAssertNil(api.stream(fromPlain: Array(#"{"error":{"message":"x"}}"#.utf8), includeUsage: false))

        let legacyFunction = events(#"""
        data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"function_call":{"name":"f"}},"finish_reason":null}]}

        data: [DONE]

        """#)
        XCTAssertNil(api.plainAnswer(fromStream: legacyFunction), "a legacy function_call delta")
        XCTAssertNil(api.plainAnswer(fromStream: events("data: {\"object\":\"other\"}\n\ndata: [DONE]\n\n")))
        XCTAssertFalse(api.endsNormally(events(#"data: {"id":"c","object":"chat.completion.chunk","choices":[]}"# + "\n\n")),
                       "a stream cut before [DONE]")
    }

    func testStreamAndStreamOptionsAreNotPartOfTheKey() throws {
        let plain = try json(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
        let streamed = try json(#"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(CacheableBody.canonicalBytes(of: plain, excluding: api.membersOutsideKey),
                       CacheableBody.canonicalBytes(of: streamed, excluding: api.membersOutsideKey))
        XCTAssertNotEqual(CacheableBody.canonicalBytes(of: plain, excluding: ResponsesAPI().membersOutsideKey),
                          CacheableBody.canonicalBytes(of: streamed, excluding: ResponsesAPI().membersOutsideKey),
                          "other APIs keep a stream apart from the plain answer")
    }

    func testResponsesAndMessagesStreamsEndWithTheirOwnFinalEvent() {
        let responses = events("event: response.created\ndata: {\"type\":\"response.created\"}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\"}\n\n")
        XCTAssertTrue(ResponsesAPI().endsNormally(responses))
        XCTAssertFalse(ResponsesAPI().endsNormally(Array(responses.prefix(1))))
        let messages = events("event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n")
        XCTAssertTrue(AnthropicMessagesAPI().endsNormally(messages))
        XCTAssertFalse(AnthropicMessagesAPI().endsNormally(Array(messages.prefix(1))))
        XCTAssertTrue(TextCompletionsAPI().endsNormally(events("data: {}\n\ndata: [DONE]\n\n")))
    }

    func testServerSentEventsParsing() {
        let parsed = events(": comment\nevent: a\ndata: one\ndata: two\nid: 7\n\ndata:three\r\n\r\ndata: cut")
        XCTAssertEqual(parsed, [
            ServerSentEvent(name: "a", data: Array("one\ntwo".utf8)),
            ServerSentEvent(name: nil, data: Array("three".utf8)),
        ], "an event without its blank line is not complete")
    }
}

extension JSONValue {
    /// Key order aside, the same document.
    var canonicalText: String { String(decoding: CanonicalJSON.encode(self), as: UTF8.self) }
}
