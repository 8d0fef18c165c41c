import Foundation
import SluiceCore
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `--log-format json`: what the journal (or a log shipper) reads on stderr.
final class JSONLogTests: DaemonTestCase {
    static let clientKey = "sk-json-log-client-secret"

    func testEveryLineIsOneJSONObjectAndNoSecretIsWritten() async throws {
        var launch = defaultLaunch()
        launch.arguments += ["--log-format", "json", "--log-level", "debug"]
        let daemon = try await startDaemon(launch)
        let endpoint = try daemon.endpoint(.tcp)

        let miss = try await http.post(chatPath, to: endpoint, headers: bearer(Self.clientKey), body: OpenAIRequests.chat("logged"))
        let hit = try await http.post(chatPath, to: daemon.endpoint(.unixSocket), headers: bearer(Self.clientKey), body: OpenAIRequests.chat("logged"))
        let anonymous = try await http.post(chatPath, to: endpoint, body: Data("{not json".utf8))
        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success)
        XCTAssertEqual([miss.status, hit.status, anonymous.status], [200, 200, 400])

        let lines = daemon.standardError.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertFalse(lines.isEmpty)
        var objects: [[String: Any]] = []
        for line in lines {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                XCTFail("not one JSON object: \(line)")
                continue
            }
            for field in ["time", "level", "message"] {
                XCTAssertNotNil(object[field] as? String, "\(field) in \(line)")
            }
            objects.append(object)
        }
        let requestLines = objects.filter { $0["message"] as? String == "request" }
        XCTAssertEqual(requestLines.count, 3, "one line per request")
        let first = try XCTUnwrap(requestLines.first)
        XCTAssertEqual(first["key_id"] as? String, KeyID.forSecret(Self.clientKey))
        XCTAssertEqual(first["route"] as? String, chatPath)
        XCTAssertEqual(first["status"].map { "\($0)" }, "200")
        XCTAssertEqual(requestLines.map { $0["status"].map { "\($0)" } ?? "-" }, ["200", "200", "400"])
        XCTAssertEqual(requestLines.last?["key_id"] as? String, KeyID.anonymous)
        XCTAssertTrue(objects.contains { $0["level"] as? String == "info" })
        let time = try XCTUnwrap(first["time"] as? String)
        XCTAssertNotNil(ISO8601DateFormatter.withFractionalSeconds.date(from: time), "time is ISO 8601: \(time)")

        let everything = daemon.logs
        XCTAssertFalse(everything.contains(DaemonLaunch.upstreamKey), "the upstream key never appears in the output")
        XCTAssertFalse(everything.contains(Self.clientKey), "a client key never appears in the output")
    }
}

private extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
