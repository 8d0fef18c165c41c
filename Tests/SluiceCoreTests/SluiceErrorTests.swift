import SluiceCore
import XCTest

final class SluiceErrorTests: XCTestCase {
    /// The error's body parsed back: (message, type, code), after checking its shape.
    private func fields(of error: SluiceError, file: StaticString = #filePath, line: UInt = #line) throws -> (String?, String?, String?) {
        let document = try JSONParser.parse(error.body)
        guard case .object(let top) = document, top.map(\.name) == ["error"], let inner = document["error"] else {
            XCTFail("not the OpenAI error shape: \(String(decoding: error.body, as: UTF8.self))", file: file, line: line)
            return (nil, nil, nil)
        }
        XCTAssertEqual(inner["param"], .null, file: file, line: line)
        return (inner["message"]?.stringValue, inner["type"]?.stringValue, inner["code"]?.stringValue)
    }

    func testBodyIsTheOpenAIErrorShape() throws {
        let error = SluiceError(status: 418, type: "teapot_error", code: "short_and_stout", message: "I am a teapot.")
        let (message, type, code) = try fields(of: error)
        XCTAssertEqual(message, "I am a teapot.")
        XCTAssertEqual(type, "teapot_error")
        XCTAssertEqual(code, "short_and_stout")
    }

    func testEscapesTheMessage() throws {
        let awkward = "a \"quoted\" word,\nback\\slash, tab\t, bell \u{7}, é 😀 </script>"
        let (message, _, _) = try fields(of: .invalidJSON(awkward))
        XCTAssertEqual(message, "The request body is not valid JSON: \(awkward).")
        XCTAssertFalse(SluiceError.invalidJSON("x\ny").body.contains(0x0A), "no raw newline in the body")
    }

    func testEveryFactoryGivesAParsableBodyAndItsStatus() throws {
        let cases: [(SluiceError, Int, String)] = [
            (.invalidJSON("unexpected character at byte 3"), 400, "invalid_json"),
            (.bodyNotObject(), 400, "invalid_body"),
            (.unauthorized("Unknown API key."), 401, "invalid_api_key"),
            (.noUpstreamCredential(), 401, "missing_upstream_credential"),
            (.notFound(path: "/nope"), 404, "not_found"),
            (.methodNotAllowed(), 405, "method_not_allowed"),
            (.bodyTooLarge(limitBytes: 16), 413, "request_too_large"),
            (.rateLimited(retryAfterSeconds: 3, headers: []), 429, "rate_limit_exceeded"),
            (.upstreamUnreachable("connection refused"), 502, "upstream_unreachable"),
            (.shuttingDown(), 503, "shutting_down"),
            (.upstreamTimeout(seconds: 300), 504, "upstream_timeout"),
        ]
        for (error, status, code) in cases {
            XCTAssertEqual(error.status, status, error.description)
            XCTAssertEqual(error.code, code)
            let (message, type, parsedCode) = try fields(of: error)
            XCTAssertEqual(parsedCode, code)
            XCTAssertEqual(message, error.message)
            XCTAssertEqual(type, error.type)
            XCTAssertFalse(error.message.isEmpty)
        }
    }

    func testRateLimitedCarriesRetryAfterBeforeTheLimitHeaders() {
        let error = SluiceError.rateLimited(
            retryAfterSeconds: 7, headers: [("x-ratelimit-remaining-requests", "0")])
        XCTAssertEqual(error.headers.map(\.0), ["retry-after", "x-ratelimit-remaining-requests"])
        XCTAssertEqual(error.headers.first?.1, "7")
        XCTAssertEqual(error.type, "rate_limit_exceeded")
        XCTAssertTrue(error.message.contains("7"))
    }

    func testEqualityIncludesHeaders() {
        XCTAssertEqual(SluiceError.rateLimited(retryAfterSeconds: 1, headers: []), .rateLimited(retryAfterSeconds: 1, headers: []))
        XCTAssertNotEqual(SluiceError.rateLimited(retryAfterSeconds: 1, headers: []), .rateLimited(retryAfterSeconds: 2, headers: []))
        XCTAssertNotEqual(
            SluiceError.rateLimited(retryAfterSeconds: 1, headers: [("a", "1")]),
            .rateLimited(retryAfterSeconds: 1, headers: [("a", "2")]))
    }

    func testDescriptionNamesStatusAndCode() {
        XCTAssertEqual(SluiceError.methodNotAllowed().description, "405 method_not_allowed: This route does not accept that method.")
    }
}

final class UpstreamErrorCodeTests: XCTestCase {
    func testPrefersTheCodeThenTheTypeThenTheStatus() {
        let withCode = Array(#"{"error":{"message":"m","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#.utf8)
        XCTAssertEqual(UpstreamErrorCode.extract(status: 404, body: withCode), "model_not_found")
        let withNullCode = Array(#"{"error":{"message":"m","type":"authentication_error","code":null}}"#.utf8)
        XCTAssertEqual(UpstreamErrorCode.extract(status: 401, body: withNullCode), "authentication_error")
        XCTAssertEqual(UpstreamErrorCode.extract(status: 502, body: Array("<html>bad gateway</html>".utf8)), "upstream_502")
        XCTAssertEqual(UpstreamErrorCode.extract(status: 500, body: []), "upstream_500")
    }
}
