import SluiceCore
import XCTest

/// Every duration, size and count setting refuses a value past its bound with
/// one clear error, from a flag, a variable or the file, and never traps.
final class SettingBoundsTests: XCTestCase {
    private let home = ["HOME": "/home/ada"]

    private func flagError(_ setting: SettingName, _ value: String) -> String? {
        do {
            _ = try SettingsResolver.resolve(file: nil, environment: home, flags: [setting: value])
            return nil
        } catch {
            return error.description
        }
    }

    private func fileError(_ yaml: String) -> String? {
        do {
            _ = try ConfigFile.parse(yaml: yaml)
            return nil
        } catch {
            return error.description
        }
    }

    func testTopLevelSettingsPastTheirBounds() {
        let cases: [(SettingName, String)] = [
            (.upstreamTimeout, "107000d"), (.upstreamTimeout, "0s"), (.upstreamTimeout, "99999999999999999999d"),
            (.idleTimeout, "0s"), (.idleTimeout, "2h"), (.shutdownTimeout, "2h"),
            (.maxBody, "1TiB"), (.maxBody, "0"), (.maxConnections, "0"), (.maxConnections, "1000001"),
            (.maxConnections, "99999999999999999999"), (.maxConnections, "-5"), (.maxConnections, "many"),
        ]
        for (setting, value) in cases {
            let error = flagError(setting, value)
            XCTAssertNotNil(error, "\(setting) \(value)")
            XCTAssertTrue(error?.hasPrefix(setting.flag) ?? false, "names the flag: \(error ?? "")")
            XCTAssertFalse(error?.contains("\n") ?? true, "one line")
        }
        XCTAssertNil(flagError(.upstreamTimeout, "24h"))
        XCTAssertNil(flagError(.idleTimeout, "100ms"))
        XCTAssertNil(flagError(.shutdownTimeout, "0"))
        XCTAssertNil(flagError(.maxConnections, "1_000_000"))
        XCTAssertEqual(flagError(.idleTimeout, "2h"), #"--idle-timeout: "2h" is out of range (100ms to 1h)"#)
    }

    func testFileSectionsPastTheirBounds() {
        for yaml in [
            "cache: {ttl: 99999d}\n", "cache: {max_size: 2TiB}\n", "usage: {retention: 0}\n", "usage: {retention: 4000d}\n",
            "limits: {default: {tokens_per_minute: 1e300}}\n", "limits: {default: {requests_per_minute: 1e10}}\n",
            "limits: {default: {burst: 1e10}}\n", "limits: {default: {max_wait: 11m}}\n",
            "allowed_origins: ['*']\n", "allowed_hosts: [a b]\n", "allowed_origins: [https://a.example/x]\n",
        ] {
            let error = fileError(yaml)
            XCTAssertNotNil(error, yaml)
            XCTAssertFalse(error?.contains("\n") ?? true, "one line: \(error ?? "")")
        }
        XCTAssertEqual(fileError("cache: {ttl: 99999d}\n"), #"cache.ttl: "99999d" is out of range (0s to 3650d)"#)
    }

    func testListsFromTheFileAndTheEnvironment() throws {
        let fromFile = try SettingsResolver.resolve(
            file: .init(path: "/c.yaml", text: "allowed_hosts: [a.internal, B.internal]\nallowed_origins: [https://app.example]\n"),
            environment: home, flags: [:])
        XCTAssertEqual(fromFile.webAccess.allowedHosts, ["a.internal", "b.internal"])
        XCTAssertEqual(fromFile.webAccess.allowedOrigins, ["https://app.example"])
        let fromEnvironment = try SettingsResolver.resolve(
            file: nil, environment: home.merging(["SLUICE_ALLOWED_ORIGINS": "https://a.example, http://localhost:3000"]) { $1 },
            flags: [:])
        XCTAssertEqual(fromEnvironment.webAccess.allowedOrigins, ["https://a.example", "http://localhost:3000"])
    }
}
