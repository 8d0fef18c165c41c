import SluiceCore
import XCTest

final class WebAccessPolicyTests: XCTestCase {
    private let policy = WebAccessPolicy(allowedHosts: ["sluice.internal"], allowedOrigins: ["https://app.example"])

    func testHostsThatAreServed() {
        for host in ["127.0.0.1:8787", "127.0.0.1", "localhost:8787", "LOCALHOST", "localhost.", "[::1]:8787", "[::1]",
                     "10.0.0.7:80", "sluice.internal", "Sluice.Internal:8787"] {
            XCTAssertEqual(policy.check(host: host, origin: nil, fetchSite: nil), .allowed, host)
        }
        XCTAssertEqual(policy.check(host: nil, origin: nil, fetchSite: nil), .allowed, "no Host: not a browser")
    }

    func testHostsThatAreRefused() {
        for host in ["evil.example:8787", "evil.example", "127.0.0.1.evil.example", "localhost.evil.example",
                     "sluice.internal.evil.example", "", "[::1", "[::1]x", "127.0.0.1:99999999", "a b", "300.1.1.1",
                     "exa_mple", "localhost:port"] {
            XCTAssertEqual(policy.check(host: host, origin: nil, fetchSite: nil), .hostNotAllowed, host)
        }
    }

    func testOrigins() {
        XCTAssertEqual(policy.check(host: "127.0.0.1:8787", origin: "https://app.example", fetchSite: "cross-site"),
                       .allowedOrigin("https://app.example"))
        XCTAssertEqual(policy.check(host: "127.0.0.1:8787", origin: "HTTPS://APP.EXAMPLE", fetchSite: nil),
                       .allowedOrigin("https://app.example"))
        for origin in ["https://evil.example", "null", "http://app.example", "https://app.example:444", ""] {
            XCTAssertEqual(policy.check(host: "127.0.0.1:8787", origin: origin, fetchSite: nil), .originNotAllowed, origin)
        }
        XCTAssertEqual(policy.check(host: "evil.example", origin: "https://app.example", fetchSite: nil), .hostNotAllowed,
                       "the Host is checked first: a rebinding page cannot borrow an allowed origin")
    }

    func testCrossSiteRequestsWithoutAnOriginAreRefused() {
        XCTAssertEqual(policy.check(host: "localhost", origin: nil, fetchSite: "cross-site"), .originNotAllowed)
        XCTAssertEqual(policy.check(host: "localhost", origin: nil, fetchSite: "same-site"), .originNotAllowed)
        XCTAssertEqual(policy.check(host: "localhost", origin: nil, fetchSite: "none"), .allowed, "typed into the address bar")
        XCTAssertEqual(policy.check(host: "localhost", origin: nil, fetchSite: "same-origin"), .allowed)
    }

    func testParsingSettings() throws {
        XCTAssertEqual(try WebAccessPolicy.parseOrigin("https://App.Example/"), "https://app.example")
        XCTAssertEqual(try WebAccessPolicy.parseOrigin("http://localhost:3000"), "http://localhost:3000")
        for bad in ["*", "null", "app.example", "https://app.example/path", "ftp://app.example", "https://user@app.example", "https://"] {
            XCTAssertThrowsError(try WebAccessPolicy.parseOrigin(bad), bad)
        }
        XCTAssertEqual(try WebAccessPolicy.parseHost("Sluice.Internal"), "sluice.internal")
        for bad in ["sluice.internal:8787", "http://sluice.internal", "a b", ""] {
            XCTAssertThrowsError(try WebAccessPolicy.parseHost(bad), bad)
        }
    }
}
