import Foundation
import XCTest

/// The upstream credential from systemd's credential file, read again on
/// SIGHUP (CONTRACT, "Settings" and "Rate limits").
final class CredentialRotationTests: DaemonTestCase {
    func testSIGHUPReadsTheCredentialFileAgain() async throws {
        let credentials = directory.file("creds")
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        let keyFile = credentials + "/vercel_ai_gateway_api_key"
        try Data("key-one".utf8).write(to: URL(fileURLWithPath: keyFile))

        var launch = defaultLaunch()
        launch.upstreamKey = nil
        launch.environment["CREDENTIALS_DIRECTORY"] = credentials
        let daemon = try await startDaemon(launch)
        let endpoint = try daemon.endpoint(.tcp)

        let first = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("with the first key"))
        XCTAssertEqual(first.status, 200, first.text)
        XCTAssertEqual(gateway.recorder.requests.last?.header("authorization"), "Bearer key-one")

        let reloaded = { daemon.standardError.components(separatedBy: ReloadOutcome.applied.rawValue).count - 1 }
        let before = reloaded()
        try Data("key-two".utf8).write(to: URL(fileURLWithPath: keyFile))
        daemon.send(signal: SIGHUP)
        let logged = try await eventually { reloaded() > before }
        XCTAssertTrue(logged, "no `configuration reloaded` after SIGHUP; stderr:\n\(daemon.standardError.suffix(2000))")

        let second = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("with the second key"))
        XCTAssertEqual(second.status, 200, second.text)
        XCTAssertEqual(second.header("x-sluice-cache"), "miss")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
        XCTAssertEqual(gateway.recorder.requests.last?.header("authorization"), "Bearer key-two",
                       "the rotated key is used after SIGHUP")
        XCTAssertTrue(daemon.isRunning)

        let logs = daemon.logs
        XCTAssertFalse(logs.contains("key-one"), "the first key is in the logs:\n\(logs.suffix(2000))")
        XCTAssertFalse(logs.contains("key-two"), "the second key is in the logs:\n\(logs.suffix(2000))")
    }
}
