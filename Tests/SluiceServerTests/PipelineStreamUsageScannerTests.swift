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

    private func scan(_ chunks: [[UInt8]]) -> TokenUsage? {
        var scanner = StreamUsageScanner()
        for chunk in chunks { scanner.consume(chunk) }
        return scanner.usage
    }

    private func scan(_ text: String) -> TokenUsage? {
        scan([Array(text.utf8)])
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
