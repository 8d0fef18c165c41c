import Foundation
import XCTest

/// The query string is part of the cache key and goes upstream with the
/// request (CONTRACT, "Cache").
final class CacheKeyQueryTests: DaemonTestCase {
    func testTheQueryStringIsPartOfTheCacheKeyOverTCP() async throws {
        try await assertQueriesKeySeparately(over: .tcp)
    }

    func testTheQueryStringIsPartOfTheCacheKeyOverTheUnixSocket() async throws {
        try await assertQueriesKeySeparately(over: .unixSocket)
    }

    private func assertQueriesKeySeparately(
        over transport: Transport, file: StaticString = #filePath, line: UInt = #line
    ) async throws {
        let endpoint = try await startDaemon().endpoint(transport)
        let body = OpenAIRequests.chat("same body, three queries (\(transport.rawValue))")
        let paths = ["\(chatPath)?a=1", "\(chatPath)?a=2", chatPath]

        var outcomes: [String?] = []
        for path in paths {
            let answer = try await http.post(path, to: endpoint, body: body)
            XCTAssertEqual(answer.status, 200, "\(path): \(answer.text)", file: file, line: line)
            outcomes.append(answer.header("x-sluice-cache"))
        }
        XCTAssertEqual(outcomes, ["miss", "miss", "miss"], "each query is a key of its own", file: file, line: line)
        XCTAssertEqual(gateway.recorder.requests.map(\.path), paths,
                       "each miss goes upstream with its own query", file: file, line: line)

        let repeated = try await http.post("\(chatPath)?a=1", to: endpoint, body: body)
        XCTAssertEqual(repeated.status, 200, file: file, line: line)
        XCTAssertEqual(repeated.header("x-sluice-cache"), "hit", "the same query again is a hit", file: file, line: line)
        let plainAgain = try await http.post(chatPath, to: endpoint, body: body)
        XCTAssertEqual(plainAgain.header("x-sluice-cache"), "hit", "no query again is a hit", file: file, line: line)
        XCTAssertEqual(gateway.recorder.requests.count, 3, "hits do not go upstream", file: file, line: line)
    }
}
