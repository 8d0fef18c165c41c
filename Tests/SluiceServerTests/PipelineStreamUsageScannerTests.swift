import SluiceCore
import XCTest
@testable import SluiceServer

final class StreamUsageScannerTests: XCTestCase {
    private let expected = TokenUsage(promptTokens: 10, completionTokens: 2, totalTokens: 12, cost: 0.0004)

    /// The Vercel gateway: `usage` rides on the last content chunk, beside `finish_reason`.
    private let vercelStream = """
        data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}

        data: {"id":"c1","choices":[{"index":0,"delta":{"content":" there"},"finish_reason":null}]}

        data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"cost":0.0004}}

        data: [DONE]


        """

    /// OpenAI: every chunk says `"usage":null`; a final chunk with no choices carries it.
    private let openAIStream = """
        data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}

        data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}

        data: {"id":"c1","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"cost":"0.0004"}}

        data: [DONE]


        """

    private func scan(_ chunks: [[UInt8]], api: any LLMAPI = ChatCompletionsAPI()) -> TokenUsage? {
        var scanner = StreamUsageScanner(api: api)
        for chunk in chunks { scanner.consume(chunk) }
        return scanner.usage
    }

    private func scan(_ text: String, api: any LLMAPI = ChatCompletionsAPI()) -> TokenUsage? {
        scan([Array(text.utf8)], api: api)
    }

    func testReadsOpenAICachedPromptTokens() {
        let stream = #"data: {"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":5,"total_tokens":105,"prompt_tokens_details":{"cached_tokens":64}}}"# + "\n\n"
        XCTAssertEqual(scan(stream), TokenUsage(promptTokens: 100, completionTokens: 5, totalTokens: 105, cachedTokens: 64))
    }

    /// Responses: usage on the final event's `response`, with its own names.
    func testReadsTheResponsesAPIsFinalEvent() {
        let stream = """
            event: response.created
            data: {"type":"response.created","response":{"id":"resp_1","status":"in_progress","usage":null}}

            event: response.output_text.delta
            data: {"type":"response.output_text.delta","delta":"Hi"}

            event: response.completed
            data: {"type":"response.completed","response":{"id":"resp_1","status":"completed","usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":2,"total_tokens":12,"cost":0.0004}}}


            """
        XCTAssertEqual(scan(stream, api: ResponsesAPI()),
                       TokenUsage(promptTokens: 10, completionTokens: 2, totalTokens: 12, cost: 0.0004, cachedTokens: 4))
    }

    /// Anthropic: input (with cache reads and writes) on `message_start`, the
    /// output total on `message_delta`.
    func testAddsUpAnthropicsMessageStartAndMessageDelta() {
        let stream = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":3,"cache_read_input_tokens":50,"cache_creation_input_tokens":7,"output_tokens":1}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}

            event: message_stop
            data: {"type":"message_stop"}


            """
        XCTAssertEqual(scan(stream, api: AnthropicMessagesAPI()),
                       TokenUsage(promptTokens: 60, completionTokens: 9, totalTokens: 69, cachedTokens: 50))
    }

    func testFindsUsageOnTheLastContentChunk() {
        XCTAssertEqual(scan(vercelStream), expected)
    }

    func testFindsUsageInAFinalChunkWithoutChoices() {
        XCTAssertEqual(scan(openAIStream), expected)
    }

    func testFindsUsageWhenFedOneByteAtATime() {
        for stream in [vercelStream, openAIStream] {
            XCTAssertEqual(scan(Array(stream.utf8).map { [$0] }), expected)
        }
    }

    func testFindsUsageWhateverByteTheStreamIsSplitAt() {
        for stream in [vercelStream, openAIStream] {
            let bytes = Array(stream.utf8)
            for cut in 0...bytes.count {
                XCTAssertEqual(scan([Array(bytes[..<cut]), Array(bytes[cut...])]), expected, "split at byte \(cut)")
            }
        }
    }

    func testFindsUsageInChunksOfIrregularSizes() {
        let bytes = Array(vercelStream.utf8)
        var chunks: [[UInt8]] = []
        var start = 0
        var size = 1
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            chunks.append(Array(bytes[start..<end]))
            start = end
            size = size * 3 % 17 + 1
        }
        XCTAssertEqual(scan(chunks), expected)
    }

    func testHandlesCarriageReturnLineEndings() {
        let crlf = vercelStream.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        XCTAssertEqual(scan(String(crlf)), expected)
        XCTAssertEqual(scan(Array(crlf.utf8).map { [$0] }), expected)
    }

    func testAcceptsDataLinesWithoutASpace() {
        XCTAssertEqual(scan("data:{\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"total_tokens\":3}}\n\n")?.totalTokens, 3)
    }

    func testIsNilWithoutUsage() {
        let stream = """
            : keep-alive comment

            event: message
            data: {"id":"c1","choices":[{"index":0,"delta":{"content":"the word \\"usage\\" in a reply"}}]}

            data: {"id":"c1","choices":[],"usage":null}

            data: [DONE]


            """
        XCTAssertNil(scan(stream))
        XCTAssertNil(scan("data: [DONE]\n\n"))
        XCTAssertNil(scan(""))
    }

    func testIgnoresUsageOutsideDataLinesAndBrokenJSON() {
        XCTAssertNil(scan(#"event: {"usage":{"prompt_tokens":1}}"# + "\n\n"))
        XCTAssertNil(scan(#"data: {"usage":{"prompt_tokens":1}"# + "\n\n"), "truncated JSON")
        XCTAssertNil(scan(#"data: {"usage":{"prompt_tokens":1}}"#), "a line never finished")
    }

    func testDoneAfterUsageDoesNotClearIt() {
        XCTAssertEqual(scan(vercelStream + "data: [DONE]\n\n" + "data: {\"usage\":null}\n\n"), expected)
    }

    func testKeepsTheLastUsageSeen() {
        let stream = """
            data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}

            data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"cost":0.0004}}


            """
        XCTAssertEqual(scan(stream), expected)
    }
}
