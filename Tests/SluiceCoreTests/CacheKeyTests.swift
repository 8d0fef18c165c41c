import SluiceCore
import XCTest

final class CacheKeyTests: XCTestCase {
    private let chat = "/v1/chat/completions"

    private func key(_ body: String, route: String = "/v1/chat/completions", scope: String? = "web") throws -> CacheKey {
        let document = try JSONParser.parse(Array(body.utf8))
        return CacheKey(route: route, scope: scope, canonicalBody: CacheableBody.canonicalBytes(of: document))
    }

    func testStreamFalseIsTheSameRequestAsNoStream() throws {
        XCTAssertEqual(try key(#"{"model":"m","stream":false}"#), try key(#"{"model":"m"}"#))
        XCTAssertEqual(try key(#"{"stream":false,"model":"m"}"#), try key(#"{"model":"m","stream":false}"#))
    }

    func testStreamTrueIsADifferentRequest() throws {
        XCTAssertNotEqual(try key(#"{"model":"m","stream":true}"#), try key(#"{"model":"m"}"#))
        XCTAssertNotEqual(try key(#"{"model":"m","stream":true}"#), try key(#"{"model":"m","stream":false}"#))
    }

    func testOnlyTheTopLevelStreamFalseIsDropped() throws {
        XCTAssertNotEqual(try key(#"{"model":"m","extra":{"stream":false}}"#), try key(#"{"model":"m","extra":{}}"#))
        XCTAssertNotEqual(try key(#"{"model":"m","stream":"false"}"#), try key(#"{"model":"m"}"#))
    }

    func testCanonicalBodyOfNonObjectsIsTheirCanonicalJSON() throws {
        let array = try JSONParser.parse(Array(#"[ {"stream" : false} ]"#.utf8))
        XCTAssertEqual(String(decoding: CacheableBody.canonicalBytes(of: array), as: UTF8.self), #"[{"stream":false}]"#)
    }

    func testReorderedBodiesShareAKey() throws {
        XCTAssertEqual(
            try key(#"{"model":"m","messages":[{"role":"user","content":"Hi"}]}"#),
            try key(#"{ "messages" : [ { "content" : "Hi", "role" : "user" } ], "model" : "m" }"#))
        XCTAssertNotEqual(try key(#"{"model":"m","temperature":1.0}"#), try key(#"{"model":"m","temperature":1}"#))
    }

    func testScopeIsPartOfTheKey() throws {
        let body = #"{"model":"m"}"#
        XCTAssertNotEqual(try key(body, scope: "web"), try key(body, scope: nil))
        XCTAssertNotEqual(try key(body, scope: "web"), try key(body, scope: "batch"))
        XCTAssertNotEqual(try key(body, scope: "shared"), try key(body, scope: nil), "a key named shared is not the shared cache")
        XCTAssertEqual(try key(body, scope: nil), try key(body, scope: nil))
    }

    func testRouteIsPartOfTheKey() throws {
        let body = #"{"model":"m","input":"x"}"#
        XCTAssertNotEqual(try key(body, route: chat), try key(body, route: "/v1/embeddings"))
    }

    func testKeyIs64LowercaseHexDigits() throws {
        let hex = try key(#"{"model":"m"}"#).hex
        XCTAssertEqual(hex.utf8.count, 64)
        XCTAssertTrue(hex.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }, hex)
        XCTAssertEqual(try key(#"{"model":"m"}"#).description, hex)
    }

    /// Pins the hashed layout (route, newline, scope, newline, body): changing it
    /// would silently orphan every stored answer.
    func testKeyIsTheSHA256OfRouteScopeAndBody() throws {
        XCTAssertEqual(
            try key("{}", scope: nil).hex, "d2c1c869a19772b340e1ed05298694dcbf486b5c8b551dcbbd0bd6e0900195cb")
        XCTAssertEqual(
            try key(#"{ "model": "m" }"#, scope: "web").hex,
            "ea8e7384ab683af95e28c9ddf43ffca99b1f8806ac37198ec7fa998ab50f56de")
    }

    func testHexEncodingIsLowercaseAndPadded() {
        XCTAssertEqual(HexEncoding.lowercase([0x00, 0x0A, 0xAB, 0xFF]), "000aabff")
        XCTAssertEqual(HexEncoding.lowercase([]), "")
    }
}
