import Foundation
import SluiceCore
import XCTest

/// `Cache-Control` on requests: `no-cache`, `no-store`, `max-age=N`.
final class CacheControlTests: DaemonTestCase {
    func testNoCacheSkipsTheLookupButStoresTheFreshAnswer() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let body = OpenAIRequests.chat("refresh me")

        let stored = try await http.post(chatPath, to: endpoint, body: body)
        let refreshed = try await http.post(chatPath, to: endpoint, headers: [("cache-control", "no-cache")], body: body)
        let after = try await http.post(chatPath, to: endpoint, body: body)

        XCTAssertEqual(stored.header("x-sluice-cache"), "miss")
        XCTAssertEqual(refreshed.status, 200)
        XCTAssertEqual(refreshed.header("x-sluice-cache"), "bypass", "no-cache does not look up")
        XCTAssertEqual(after.header("x-sluice-cache"), "hit")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
        XCTAssertNil(gateway.recorder.requests.last?.header("cache-control"), "the directive is Sluice's, not upstream's")
    }

    func testNoCacheOnAnEmptyCacheStoresForTheNextRequest() async throws {
        let endpoint = try await startDaemon().endpoint(.unixSocket)
        let body = OpenAIRequests.chat("first with no-cache")

        _ = try await http.post(chatPath, to: endpoint, headers: [("cache-control", "no-cache")], body: body)
        let next = try await http.post(chatPath, to: endpoint, body: body)

        XCTAssertEqual(next.header("x-sluice-cache"), "hit")
        XCTAssertEqual(gateway.recorder.requests.count, 1)
    }

    func testNoStoreNeitherLooksUpNorStores() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let stored = OpenAIRequests.chat("stored")
        let secret = OpenAIRequests.chat("never stored")

        _ = try await http.post(chatPath, to: endpoint, body: stored)
        let skipped = try await http.post(chatPath, to: endpoint, headers: [("cache-control", "no-store")], body: stored)
        let private1 = try await http.post(chatPath, to: endpoint, headers: [("cache-control", "no-store")], body: secret)
        let private2 = try await http.post(chatPath, to: endpoint, body: secret)

        XCTAssertEqual(skipped.header("x-sluice-cache"), "bypass", "no-store skips the lookup")
        XCTAssertEqual(private1.header("x-sluice-cache"), "bypass")
        XCTAssertEqual(private2.header("x-sluice-cache"), "miss", "no-store did not store")
        XCTAssertEqual(gateway.recorder.requests.count, 4)
    }

    func testUnknownDirectivesAreIgnored() async throws {
        let endpoint = try await startDaemon().endpoint(.tcp)
        let body = OpenAIRequests.chat("ignored directives")

        _ = try await http.post(chatPath, to: endpoint, body: body)
        let answer = try await http.post(chatPath, to: endpoint, headers: [("cache-control", "private, max-stale=5, max-age=oops")], body: body)

        XCTAssertEqual(answer.header("x-sluice-cache"), "hit")
    }

    func testMaxAgeBoundsTheAgeOfTheAnswerServed() async throws {
        let daemon = try await startInProcess()
        let body = OpenAIRequests.chat("how old?")

        _ = try await http.post(chatPath, to: daemon.endpoint, body: body)
        daemon.clock.advance(by: .seconds(20))
        let young = try await http.post(chatPath, to: daemon.endpoint, headers: [("cache-control", "max-age=30")], body: body)
        let tooOld = try await http.post(chatPath, to: daemon.endpoint, headers: [("cache-control", "max-age=10")], body: body)

        XCTAssertEqual(young.header("x-sluice-cache"), "hit")
        XCTAssertEqual(young.header("age"), "20")
        XCTAssertEqual(tooOld.header("x-sluice-cache"), "miss", "a 20 s old answer is older than max-age=10")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
    }

    func testMaxAgeSetsTheLifetimeOfTheStoredAnswer() async throws {
        let daemon = try await startInProcess()  // default TTL: 24 h
        let short = OpenAIRequests.chat("short-lived")
        let normal = OpenAIRequests.chat("default lifetime")

        _ = try await http.post(chatPath, to: daemon.endpoint, headers: [("cache-control", "max-age=30")], body: short)
        _ = try await http.post(chatPath, to: daemon.endpoint, body: normal)
        daemon.clock.advance(by: .seconds(29))
        let shortBefore = try await http.post(chatPath, to: daemon.endpoint, body: short)
        daemon.clock.advance(by: .seconds(2))
        let shortAfter = try await http.post(chatPath, to: daemon.endpoint, body: short)
        let normalAfter = try await http.post(chatPath, to: daemon.endpoint, body: normal)

        XCTAssertEqual(shortBefore.header("x-sluice-cache"), "hit")
        XCTAssertEqual(shortAfter.header("x-sluice-cache"), "miss", "stored with max-age=30, expired at 31 s")
        XCTAssertEqual(normalAfter.header("x-sluice-cache"), "hit")
        XCTAssertEqual(normalAfter.header("age"), "31")
    }

    /// An in-process daemon on this test's gateway and folder, stopped after the test.
    private func startInProcess(cache: CacheSettings = CacheSettings()) async throws -> InProcessDaemon {
        let daemon = try await InProcessDaemon.start(
            upstream: gateway.baseURL, databasePath: directory.file("in-process.db"), cache: cache)
        addTeardownBlock { try await daemon.stop() }
        return daemon
    }
}
