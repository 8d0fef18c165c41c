import Foundation
import XCTest

/// Absurd settings are refused with one clear line, never a trap
/// (CONTRACT, "Settings"; the ranges are `SettingBounds`).
final class SettingsBoundsTests: DaemonTestCase {
    /// One absurd setting and the names it may be called by in the message.
    private struct Absurd {
        var label: String
        var arguments: [String] = []
        var environment: [String: String] = [:]
        var configFile: String?
        var names: [String]
    }

    private let absurdities: [Absurd] = [
        Absurd(label: "--upstream-timeout 107000d", arguments: ["--upstream-timeout", "107000d"],
               names: ["upstream-timeout", "upstream_timeout", "SLUICE_UPSTREAM_TIMEOUT"]),
        Absurd(label: "--max-body 1TiB", arguments: ["--max-body", "1TiB"],
               names: ["max-body", "max_body", "SLUICE_MAX_BODY"]),
        Absurd(label: "--idle-timeout 0s", arguments: ["--idle-timeout", "0s"],
               names: ["idle-timeout", "idle_timeout", "SLUICE_IDLE_TIMEOUT"]),
        Absurd(label: "--max-connections 0", arguments: ["--max-connections", "0"],
               names: ["max-connections", "max_connections", "SLUICE_MAX_CONNECTIONS"]),
        Absurd(label: "--max-connections 99999999999999999999", arguments: ["--max-connections", "99999999999999999999"],
               names: ["max-connections", "max_connections", "SLUICE_MAX_CONNECTIONS"]),
        Absurd(label: "--shutdown-timeout 2h", arguments: ["--shutdown-timeout", "2h"],
               names: ["shutdown-timeout", "shutdown_timeout", "SLUICE_SHUTDOWN_TIMEOUT"]),
        Absurd(label: "SLUICE_IDLE_TIMEOUT=99999999999999999999d", environment: ["SLUICE_IDLE_TIMEOUT": "99999999999999999999d"],
               names: ["SLUICE_IDLE_TIMEOUT"]),
        Absurd(label: "cache: {ttl: 99999d}", configFile: "cache: {ttl: 99999d}\n", names: ["ttl"]),
        Absurd(label: "limits: {default: {tokens_per_minute: 1e300}}", configFile: "limits: {default: {tokens_per_minute: 1e300}}\n",
               names: ["tokens_per_minute"]),
        Absurd(label: "usage: {retention: 0}", configFile: "usage: {retention: 0}\n", names: ["retention"]),
    ]

    /// Words that say a value is outside what the setting accepts.
    private static let rangeWords = ["out of range", "too large", "too big", "too small", "too long", "too short", "at most", "at least"]

    func testServeRefusesEveryAbsurdSettingWithOneClearLine() async throws {
        for (index, absurd) in absurdities.enumerated() {
            let result = try await run(["serve", "--tcp", "127.0.0.1:\(try FreePort.make())", "--unix", "off"], absurd, index: index)
            assertRefused(result, absurd, command: "serve")
        }
    }

    func testConfigCheckRefusesEveryAbsurdSettingWithOneClearLine() async throws {
        for (index, absurd) in absurdities.enumerated() {
            let result = try await run(["config", "check"], absurd, index: index)
            assertRefused(result, absurd, command: "config check")
        }
    }

    func testConfigCheckPrintsTheNewSettingsWithTheirDefaults() async throws {
        let result = try await SluiceCommand.run(
            ["config", "check", "--db", directory.file("defaults.db"), "--upstream", gateway.baseURL], in: directory)
        XCTAssertEqual(result.exitCode, 0, result.standardError)
        let printed = Self.topLevelValues(result.standardOutput)
        let expected = [
            "idle_timeout": "1m",
            "max_connections": "4096",
            "shutdown_timeout": "30s",
            "allowed_hosts": "[]",
            "allowed_origins": "[]",
        ]
        for (setting, value) in expected.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(printed[setting], value, "\(setting) in:\n\(result.standardOutput)")
        }
    }

    func testConfigCheckPrintsGivenValuesOfTheNewSettings() async throws {
        let result = try await SluiceCommand.run(
            ["config", "check", "--db", directory.file("given.db"), "--upstream", gateway.baseURL,
             "--idle-timeout", "90s", "--max-connections", "12", "--shutdown-timeout", "5s"],
            environment: ["SLUICE_ALLOWED_HOSTS": "sluice.internal,b.example", "SLUICE_ALLOWED_ORIGINS": "https://app.example"],
            in: directory)
        XCTAssertEqual(result.exitCode, 0, result.standardError)
        let printed = Self.topLevelValues(result.standardOutput)
        XCTAssertEqual(printed["max_connections"], "12", result.standardOutput)
        XCTAssertEqual(printed["shutdown_timeout"], "5s", result.standardOutput)
        XCTAssertNotEqual(printed["idle_timeout"], "1m", result.standardOutput)
        XCTAssertEqual(printed["allowed_hosts"], "[b.example, sluice.internal]", result.standardOutput)
        XCTAssertEqual(printed["allowed_origins"], "[https://app.example]", result.standardOutput)
    }

    // MARK: Helpers

    private func run(_ command: [String], _ absurd: Absurd, index: Int) async throws -> CommandResult {
        var arguments = command + ["--db", directory.file("bounds-\(index).db"), "--upstream", gateway.baseURL]
        if let yaml = absurd.configFile {
            arguments += ["--config", try writeConfig(yaml, name: "bounds-\(index).yaml")]
        }
        arguments += absurd.arguments
        do {
            return try await SluiceCommand.run(
                arguments, environment: absurd.environment.merging(["VERCEL_AI_GATEWAY_API_KEY": "k"]) { given, _ in given },
                in: directory, timeout: .seconds(8))
        } catch {
            // A daemon that accepted the setting keeps running until the timeout kills it.
            return CommandResult(exitCode: -1, standardOutput: "", standardError: "did not exit: \(error)")
        }
    }

    private func assertRefused(
        _ result: CommandResult, _ absurd: Absurd, command: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        let context = "sluice \(command) with \(absurd.label)"
        XCTAssertFalse(result.killedBySignal, "\(context) trapped (signal \(result.exitCode)); stderr:\n\(result.standardError)",
                       file: file, line: line)
        XCTAssertNotEqual(result.exitCode, 0, "\(context) was accepted; stdout:\n\(result.standardOutput)", file: file, line: line)
        XCTAssertNotEqual(result.exitCode, -1, "\(context): \(result.standardError)", file: file, line: line)
        for trap in ["Fatal error", "Stack dump", "Illegal instruction", "Trace/breakpoint"] {
            XCTAssertFalse(result.standardError.contains(trap), "\(context) trapped:\n\(result.standardError)", file: file, line: line)
        }

        let lines = result.standardError.split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let first = lines.first else {
            XCTFail("\(context): nothing on stderr", file: file, line: line)
            return
        }
        XCTAssertTrue(absurd.names.contains { first.contains($0) },
                      "\(context): the first stderr line should name the setting (\(absurd.names)): \(first)", file: file, line: line)
        XCTAssertTrue(Self.rangeWords.contains { first.lowercased().contains($0) },
                      "\(context): the first stderr line should say the value is out of range: \(first)", file: file, line: line)
        // A bad flag may be followed by swift-argument-parser's usage lines; nothing else.
        let extra = lines.dropFirst().filter { !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See '") && !$0.hasPrefix("See '") }
        XCTAssertTrue(extra.isEmpty, "\(context): one line on stderr, not:\n\(result.standardError)", file: file, line: line)
    }

    /// `name: value` of each top-level line of `config check`, without the `# origin` comment.
    private static func topLevelValues(_ output: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") where !line.hasPrefix(" ") && !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            var value = line[line.index(after: colon)...]
            if let comment = value.range(of: " #") { value = value[..<comment.lowerBound] }
            values[name] = value.trimmingCharacters(in: .whitespaces)
        }
        return values
    }
}
