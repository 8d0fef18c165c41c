import Foundation
import SluiceCore
import XCTest

/// `cache.stale_if_error`: when the upstream fails, an answer expired less than
/// that long ago is served with `x-sluice-cache: stale` (CONTRACT, "Cache").
final class StaleIfErrorTests: DaemonTestCase {
    private func start(staleIfError: Duration) async throws -> InProcessDaemon {
        let daemon = try await InProcessDaemon.start(
            upstream: gateway.baseURL, databasePath: directory.file("stale.db"),
            cache: CacheSettings(ttl: .seconds(60), staleIfError: staleIfError))
        addTeardownBlock { try await daemon.stop() }
        return daemon
    }

    func testAnExpiredAnswerStandsInForA5xxOr429WithinTheWindow() async throws {
        let daemon = try await start(staleIfError: .seconds(3600))
        let body = OpenAIRequests.chat("keep me around")
        let stored = try await http.post(chatPath, to: daemon.endpoint, body: body)
        XCTAssertEqual(stored.header("x-sluice-cache"), "miss")
        daemon.clock.advance(by: .seconds(120))

        for status in [500, 503, 429] {
            gateway.behavior.fault = .status(status)
            let stale = try await http.post(chatPath, to: daemon.endpoint, body: body)
            XCTAssertEqual(stale.status, 200, "upstream \(status)")
            XCTAssertEqual(stale.header("x-sluice-cache"), "stale", "upstream \(status)")
            XCTAssertEqual(stale.body, stored.body)
            XCTAssertEqual(stale.header("age"), "120")
        }
        gateway.behavior.fault = .status(400)
        let clientError = try await http.post(chatPath, to: daemon.endpoint, body: body)
        XCTAssertEqual(clientError.status, 400, "a 4xx other than 429 is the client's problem: passed through")

        gateway.behavior.fault = nil
        let refreshed = try await http.post(chatPath, to: daemon.endpoint, body: body)
        XCTAssertEqual(refreshed.header("x-sluice-cache"), "miss", "a working upstream refreshes the expired answer")
        XCTAssertEqual(gateway.recorder.requests.count, 6)
    }

    func testAnUnreachableUpstreamIsCoveredAndTheWindowEnds() async throws {
        let daemon = try await start(staleIfError: .seconds(600))
        let body = OpenAIRequests.chat("outage")
        _ = try await http.post(chatPath, to: daemon.endpoint, body: body)
        await gateway.stop()
        daemon.clock.advance(by: .seconds(61))
        let stale = try await http.post(chatPath, to: daemon.endpoint, body: body)
        XCTAssertEqual(stale.status, 200, stale.text)
        XCTAssertEqual(stale.header("x-sluice-cache"), "stale")

        daemon.clock.advance(by: .seconds(600))
        let tooOld = try await http.post(chatPath, to: daemon.endpoint, body: body)
        XCTAssertEqual(tooOld.status, 502, "expired longer than stale_if_error ago: the failure shows")
    }

    func testOffByDefault() async throws {
        let daemon = try await start(staleIfError: .zero)
        let body = OpenAIRequests.chat("no stale")
        _ = try await http.post(chatPath, to: daemon.endpoint, body: body)
        daemon.clock.advance(by: .seconds(61))
        gateway.behavior.fault = .status(500)
        let failed = try await http.post(chatPath, to: daemon.endpoint, body: body)
        XCTAssertEqual(failed.status, 500)
        XCTAssertEqual(failed.header("x-sluice-cache"), "miss")
    }
}
