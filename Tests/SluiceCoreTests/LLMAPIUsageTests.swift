import SluiceCore
import XCTest

/// Each API reads its own answers' `usage` (issue 13, points 3 and 4).
final class LLMAPIUsageTests: XCTestCase {
    private func usage(_ api: any LLMAPI, _ object: String) throws -> TokenUsage? {
        api.usage(from: try JSONParser.parse(Array(object.utf8)))
    }

    func testChatReadsOpenAINamesAndCachedTokens() throws {
        XCTAssertEqual(
            try usage(ChatCompletionsAPI(), #"{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,"cost":"0.002","prompt_tokens_details":{"cached_tokens":80}}"#),
            TokenUsage(promptTokens: 100, completionTokens: 20, totalTokens: 120, cost: 0.002, cachedTokens: 80))
        XCTAssertNil(try usage(ChatCompletionsAPI(), #"{"input_tokens":4,"output_tokens":6}"#), "not chat's names")
    }

    func testResponsesReadsInputAndOutputTokens() throws {
        XCTAssertEqual(
            try usage(ResponsesAPI(), #"{"input_tokens":36,"input_tokens_details":{"cached_tokens":12},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":40},"total_tokens":123}"#),
            TokenUsage(promptTokens: 36, completionTokens: 87, totalTokens: 123, cachedTokens: 12))
    }

    func testAnthropicCountsCacheReadsAndWritesAsPromptTokens() throws {
        XCTAssertEqual(
            try usage(AnthropicMessagesAPI(), #"{"input_tokens":10,"cache_creation_input_tokens":200,"cache_read_input_tokens":1000,"output_tokens":50}"#),
            TokenUsage(promptTokens: 1210, completionTokens: 50, totalTokens: 1260, cachedTokens: 1000))
        XCTAssertEqual(
            try usage(AnthropicMessagesAPI(), #"{"input_tokens":10,"output_tokens":50}"#),
            TokenUsage(promptTokens: 10, completionTokens: 50, totalTokens: 60))
        XCTAssertNil(try usage(AnthropicMessagesAPI(), #"{"service_tier":"standard"}"#))
    }

    func testAnthropicStreamKeepsMessageStartsInputWhenADeltaOnlyReportsOutput() throws {
        let api = AnthropicMessagesAPI()
        let start = try JSONParser.parse(Array(#"{"type":"message_start","message":{"usage":{"input_tokens":25,"cache_read_input_tokens":5,"output_tokens":1}}}"#.utf8))
        let delta = try JSONParser.parse(Array(#"{"type":"message_delta","usage":{"output_tokens":15}}"#.utf8))
        let ping = try JSONParser.parse(Array(#"{"type":"ping"}"#.utf8))
        var running = api.streamUsage(nil, after: start)
        running = api.streamUsage(running, after: ping)
        running = api.streamUsage(running, after: delta)
        XCTAssertEqual(running, TokenUsage(promptTokens: 30, completionTokens: 15, totalTokens: 45, cachedTokens: 5))
    }

    func testNegativeCachedTokensReadAsZero() throws {
        XCTAssertEqual(
            try usage(ChatCompletionsAPI(), #"{"prompt_tokens":1,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":-5}}"#)?.cachedTokens, 0)
    }
}
