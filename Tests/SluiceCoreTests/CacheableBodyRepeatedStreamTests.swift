import SluiceCore
import XCTest

/// Found by the `FuzzJSON` check "the cache key form is the same request"
/// (`FuzzCorpus/json/crash-repeated-stream`): with repeated `stream` members
/// the last one counts, and the cache key form must agree with it.
final class CacheableBodyRepeatedStreamTests: XCTestCase {
    private func canonical(_ body: String) throws -> String {
        String(decoding: CacheableBody.canonicalBytes(of: try JSONParser.parse(Array(body.utf8))), as: UTF8.self)
    }

    private func key(_ body: String) throws -> CacheKey {
        let document = try JSONParser.parse(Array(body.utf8))
        return CacheKey(route: "/v1/chat/completions", scope: "web", canonicalBody: CacheableBody.canonicalBytes(of: document))
    }

    func testAStreamTrueOverriddenByALaterFalseIsNotAStreamingRequest() throws {
        let body = #"{"model":"m","stream":true,"stream":false}"#
        XCTAssertFalse(RequestSummary(body: try JSONParser.parse(Array(body.utf8))).stream)
        XCTAssertEqual(try canonical(body), #"{"model":"m"}"#)
        XCTAssertEqual(try key(body), try key(#"{"model":"m"}"#))
        XCTAssertNotEqual(try key(body), try key(#"{"model":"m","stream":true}"#))
    }

    func testAStreamFalseOverriddenByALaterTrueStaysAStreamingRequest() throws {
        let body = #"{"model":"m","stream":false,"stream":true}"#
        XCTAssertTrue(RequestSummary(body: try JSONParser.parse(Array(body.utf8))).stream)
        XCTAssertEqual(try canonical(body), #"{"model":"m","stream":true}"#)
        XCTAssertEqual(try key(body), try key(#"{"model":"m","stream":true}"#))
    }

    func testAnOverriddenNonBooleanStreamGoesWhenTheLastIsFalse() throws {
        XCTAssertEqual(try canonical(#"{"stream":"yes","model":"m","stream":false}"#), #"{"model":"m"}"#)
        XCTAssertEqual(try canonical(#"{"stream":false,"stream":"yes"}"#), #"{"stream":"yes"}"#)
    }

    func testTheCacheKeyFormReadsAsTheSameRequest() throws {
        for body in [
            #"{"model":"m","stream":true,"stream":false}"#, #"{"stream":false,"stream":true,"stream":false}"#,
            #"{"stream":true,"stream":false,"stream_options":{"include_usage":true}}"#,
        ] {
            let document = try JSONParser.parse(Array(body.utf8))
            let keyed = try JSONParser.parse(CacheableBody.canonicalBytes(of: document))
            XCTAssertEqual(RequestSummary(body: keyed), RequestSummary(body: document), body)
        }
    }
}
