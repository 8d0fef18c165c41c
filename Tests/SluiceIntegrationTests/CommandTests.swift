import XCTest

/// Other subcommands, run as a user would.
final class CommandTests: DaemonTestCase {
    func testConfigCheckMasksTheUpstreamKey() async throws {
        let result = try await SluiceCommand.run(
            ["config", "check", "--db", directory.file("c.db"), "--upstream", gateway.baseURL],
            environment: ["VERCEL_AI_GATEWAY_API_KEY": DaemonLaunch.upstreamKey],
            in: directory
        )
        XCTAssertEqual(result.exitCode, 0, result.standardError)
        XCTAssertTrue(result.standardOutput.contains(gateway.baseURL), "effective upstream not printed:\n\(result.standardOutput)")
        XCTAssertFalse((result.standardOutput + result.standardError).contains(DaemonLaunch.upstreamKey), "the key is printed unmasked")
    }

    func testServeWithABadFlagFailsWithOneClearLine() async throws {
        let result = try await SluiceCommand.run(
            ["serve", "--db", directory.file("c.db"), "--max-body", "lots"], in: directory
        )
        XCTAssertNotEqual(result.exitCode, 0)
        XCTAssertTrue(result.standardError.contains("lots"), "stderr does not say what is wrong:\n\(result.standardError)")
        XCTAssertFalse(result.standardError.contains("Fatal error"), result.standardError)
    }

    func testStatsOnAFreshDatabaseSucceeds() async throws {
        let daemon = try await startDaemon()
        let result = try await SluiceCommand.run(["stats", "--db", daemon.databasePath, "--format", "json"], in: directory)
        XCTAssertEqual(result.exitCode, 0, result.standardError)
        XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [Any], result.standardOutput)

        let cache = try await SluiceCommand.run(["cache", "stats", "--db", daemon.databasePath], in: directory)
        XCTAssertEqual(cache.exitCode, 0, cache.standardError)
    }
}
