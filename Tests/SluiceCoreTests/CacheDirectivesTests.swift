import SluiceCore
import XCTest

final class CacheDirectivesTests: XCTestCase {
    func testNoHeaderAsksForNothing() {
        XCTAssertEqual(CacheDirectives(headerValue: nil), CacheDirectives())
        XCTAssertEqual(CacheDirectives(headerValue: ""), CacheDirectives())
        XCTAssertFalse(CacheDirectives(headerValue: nil).skipsLookup)
    }

    func testNoCacheSkipsTheLookupOnly() {
        let directives = CacheDirectives(headerValue: "no-cache")
        XCTAssertEqual(directives, CacheDirectives(noCache: true))
        XCTAssertTrue(directives.skipsLookup)
    }

    func testNoStoreSkipsTheLookupToo() {
        let directives = CacheDirectives(headerValue: "no-store")
        XCTAssertEqual(directives, CacheDirectives(noStore: true))
        XCTAssertTrue(directives.skipsLookup)
    }

    func testMaxAgeBoundsTheAge() {
        let directives = CacheDirectives(headerValue: "max-age=60")
        XCTAssertEqual(directives, CacheDirectives(maxAge: 60))
        XCTAssertFalse(directives.skipsLookup)
        XCTAssertEqual(CacheDirectives(headerValue: "max-age=0").maxAge, 0)
    }

    func testCombinesDirectives() {
        XCTAssertEqual(
            CacheDirectives(headerValue: "no-cache, no-store, max-age=5"),
            CacheDirectives(noCache: true, noStore: true, maxAge: 5))
        XCTAssertEqual(CacheDirectives(headerValue: "max-age=30,no-cache"), CacheDirectives(noCache: true, maxAge: 30))
    }

    func testIgnoresCaseAndSurroundingBlanks() {
        XCTAssertEqual(
            CacheDirectives(headerValue: "  No-Cache ,\tMAX-AGE=30 \t"), CacheDirectives(noCache: true, maxAge: 30))
        XCTAssertEqual(CacheDirectives(headerValue: "NO-STORE"), CacheDirectives(noStore: true))
    }

    func testAcceptsAQuotedMaxAge() {
        XCTAssertEqual(CacheDirectives(headerValue: #"max-age="120""#).maxAge, 120)
    }

    func testIgnoresGarbage() {
        XCTAssertEqual(
            CacheDirectives(headerValue: "private, foo=bar, max-age=abc, max-age=-5, max-age=, ,, ;;, no-cachex, xno-store"),
            CacheDirectives())
        XCTAssertEqual(CacheDirectives(headerValue: "max-age=99999999999999999999999").maxAge, nil)
        XCTAssertEqual(CacheDirectives(headerValue: "bogus, max-age=7").maxAge, 7, "garbage does not hide the rest")
    }
}
