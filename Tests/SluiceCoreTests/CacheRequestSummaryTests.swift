import SluiceCore
import XCTest

final class RequestSummaryTests: XCTestCase {
    private func summary(_ body: String) throws -> RequestSummary {
        RequestSummary(body: try JSONParser.parse(Array(body.utf8)))
    }

    func testReadsModelStreamAndIncludeUsage() throws {
        XCTAssertEqual(
            try summary(#"{"model":"openai/gpt-5","stream":true,"stream_options":{"include_usage":true},"max_tokens":50}"#),
            RequestSummary(model: "openai/gpt-5", stream: true, includeUsage: true, maxTokens: 50))
    }

    func testDefaultsWhenFieldsAreMissing() throws {
        XCTAssertEqual(try summary("{}"), RequestSummary())
        XCTAssertEqual(try summary(#"{"stream_options":{}}"#), RequestSummary())
        XCTAssertEqual(RequestSummary(body: .array([])), RequestSummary())
    }

    func testIgnoresFieldsOfTheWrongType() throws {
        XCTAssertEqual(
            try summary(#"{"model":7,"stream":"true","stream_options":{"include_usage":1},"max_tokens":"50"}"#),
            RequestSummary())
        XCTAssertNil(try summary(#"{"max_tokens":1.5}"#).maxTokens)
    }

    func testPrefersMaxCompletionTokensOverMaxTokens() throws {
        XCTAssertEqual(try summary(#"{"max_tokens":100,"max_completion_tokens":20}"#).maxTokens, 20)
        XCTAssertEqual(try summary(#"{"max_completion_tokens":20,"max_tokens":100}"#).maxTokens, 20)
        XCTAssertEqual(try summary(#"{"max_tokens":100}"#).maxTokens, 100)
        XCTAssertEqual(try summary(#"{"max_completion_tokens":null,"max_tokens":100}"#).maxTokens, 100)
    }

    func testStreamFalseAndARepeatedStreamReadTheLastValue() throws {
        XCTAssertFalse(try summary(#"{"stream":false}"#).stream)
        XCTAssertTrue(try summary(#"{"stream":false,"stream":true}"#).stream)
    }
}
