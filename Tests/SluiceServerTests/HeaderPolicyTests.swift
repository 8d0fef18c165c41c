import NIOHTTP1
import XCTest
@testable import SluiceServer

final class HeaderPolicyTests: XCTestCase {
    private let hopByHop = [
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade",
    ]

    private func names(_ headers: HTTPHeaders) -> [String] {
        headers.map { $0.name.lowercased() }
    }

    func testDropsHopByHopHeadersBothWays() {
        var headers = HTTPHeaders()
        for name in hopByHop { headers.add(name: name, value: "x") }
        headers.add(name: "Host", value: "localhost:8787")
        headers.add(name: "Content-Length", value: "12")
        headers.add(name: "x-kept", value: "yes")
        XCTAssertEqual(names(HeaderPolicy.upstreamHeaders(from: headers)), ["x-kept"])
        XCTAssertEqual(names(HeaderPolicy.clientHeaders(from: headers)), ["x-kept"])
    }

    func testDropsHeadersNamedInConnectionBothWays() {
        let headers = HTTPHeaders([
            ("Connection", "keep-alive, X-Private ,x-other"), ("connection", "X-Third"), ("x-private", "1"),
            ("X-Other", "2"), ("x-third", "3"), ("x-public", "4"),
        ])
        XCTAssertEqual(names(HeaderPolicy.upstreamHeaders(from: headers)), ["x-public"])
        XCTAssertEqual(names(HeaderPolicy.clientHeaders(from: headers)), ["x-public"])
    }

    func testDoesNotForwardCredentialsOrCacheRequestsUpstream() {
        let headers = HTTPHeaders([
            ("Authorization", "Bearer sk-client-secret"), ("Cache-Control", "no-cache"), ("Accept-Encoding", "gzip, br"),
            ("content-type", "application/json"),
        ])
        let upstream = HeaderPolicy.upstreamHeaders(from: headers)
        XCTAssertEqual(names(upstream), ["content-type"])
        XCTAssertNil(upstream.first(name: "authorization"))
    }

    func testKeepsOtherHeadersWithTheirNamesValuesAndOrder() {
        let headers = HTTPHeaders([
            ("Content-Type", "application/json"), ("User-Agent", "OpenAI/Python 1.0"), ("X-Title", "app"),
            ("x-repeated", "1"), ("x-repeated", "2"), ("OpenAI-Organization", "org"),
        ])
        let upstream = HeaderPolicy.upstreamHeaders(from: headers)
        XCTAssertEqual(upstream.map(\.name), headers.map(\.name))
        XCTAssertEqual(upstream.map(\.value), headers.map(\.value))
    }

    func testPassesAnswerHeadersBackIncludingCacheControl() {
        let headers = HTTPHeaders([
            ("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"), ("x-request-id", "r1"),
            ("Transfer-Encoding", "chunked"), ("Connection", "close"), ("x-ratelimit-remaining-requests", "5"),
        ])
        XCTAssertEqual(
            names(HeaderPolicy.clientHeaders(from: headers)),
            ["content-type", "cache-control", "x-request-id", "x-ratelimit-remaining-requests"])
    }

    func testEmptyHeadersStayEmpty() {
        XCTAssertTrue(HeaderPolicy.upstreamHeaders(from: HTTPHeaders()).isEmpty)
        XCTAssertTrue(HeaderPolicy.clientHeaders(from: HTTPHeaders()).isEmpty)
    }
}
