import SluiceCore
import XCTest

final class TokenUsageJSONTests: XCTestCase {
    private func usage(_ body: String) -> TokenUsage? {
        TokenUsage(responseBody: Array(body.utf8))
    }

    func testReadsChatUsageWithANumericCost() {
        let body = #"{"id":"c1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"cost":0.00125,"prompt_tokens_details":{"cached_tokens":0}}}"#
        XCTAssertEqual(usage(body), TokenUsage(promptTokens: 12, completionTokens: 30, totalTokens: 42, cost: 0.00125))
    }

    func testReadsACostWrittenAsADecimalString() {
        let body = #"{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"cost":"0.000042"}}"#
        XCTAssertEqual(usage(body)?.cost, 0.000042)
    }

    func testCostIsNilWhenAbsentOrUnreadable() {
        XCTAssertEqual(
            usage(#"{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#),
            TokenUsage(promptTokens: 1, completionTokens: 2, totalTokens: 3, cost: nil))
        XCTAssertNil(usage(#"{"usage":{"prompt_tokens":1,"cost":"about a cent"}}"#)?.cost)
        XCTAssertNil(usage(#"{"usage":{"prompt_tokens":1,"cost":null}}"#)?.cost)
    }

    func testReadsEmbeddingsUsageWithoutCompletionTokens() {
        XCTAssertEqual(
            usage(#"{"object":"list","data":[],"usage":{"prompt_tokens":8,"total_tokens":8}}"#),
            TokenUsage(promptTokens: 8, completionTokens: 0, totalTokens: 8))
    }

    func testComputesAMissingTotal() {
        XCTAssertEqual(usage(#"{"usage":{"prompt_tokens":5,"completion_tokens":7}}"#)?.totalTokens, 12)
    }

    func testReadsResponsesAPINames() {
        XCTAssertEqual(
            usage(#"{"usage":{"input_tokens":4,"output_tokens":6,"total_tokens":10}}"#),
            TokenUsage(promptTokens: 4, completionTokens: 6, totalTokens: 10))
    }

    func testIsNilWithoutUsage() {
        XCTAssertNil(usage(#"{"id":"c1","choices":[]}"#))
        XCTAssertNil(usage(#"{"usage":null}"#))
        XCTAssertNil(usage(#"{"usage":{}}"#))
        XCTAssertNil(usage(#"{"usage":{"cost":0.1}}"#), "a cost alone is not usage")
        XCTAssertNil(usage(#"{"usage":[1,2]}"#))
        XCTAssertNil(usage(#"[{"usage":{"prompt_tokens":1}}]"#))
        XCTAssertNil(TokenUsage(usageObject: nil))
    }

    func testIsNilForBodiesThatAreNotJSON() {
        XCTAssertNil(usage(""))
        XCTAssertNil(usage("<html>Bad Gateway</html>"))
        XCTAssertNil(usage(#"{"usage":{"prompt_tokens":1}"#), "truncated")
        XCTAssertNil(TokenUsage(responseBody: [0xFF, 0xFE]))
    }
}
