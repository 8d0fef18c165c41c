import SluiceCore
import XCTest

final class ConfigSettingsReportTests: XCTestCase {
    private let clientKey = "sk-local-web-example-secret"
    private let upstreamKey = "vck_upstreamsecretvalue1234"

    private func load(_ yaml: String?, environment: [String: String] = [:], flags: [SettingName: String] = [:]) throws -> Configuration {
        try Configuration.load(
            configFlag: yaml == nil ? nil : "/etc/sluice/config.yaml", flags: flags,
            environment: ["HOME": "/home/ada", "VERCEL_AI_GATEWAY_API_KEY": upstreamKey].merging(environment) { $1 }
        ) { path in path == "/etc/sluice/config.yaml" ? yaml : nil }
    }

    func testPrintsEverySettingWithItsOrigin() throws {
        let report = SettingsReport.render(try load(
            """
            tcp: 0.0.0.0:9000
            cache: {ttl: 12h, scope: shared, max_size: 512MiB}
            limits:
              default: {requests_per_minute: 60, burst: 10, tokens_per_minute: 1000}
              keys: {web: {max_wait: 2s}}
            keys:
              - {name: web, key: \(clientKey)}
            usage: {retention: 30d}
            """,
            environment: ["SLUICE_LOG_LEVEL": "debug", "VERCEL_SITE_URL": "https://example.com"],
            flags: [.maxBody: "1MiB"]
        ))
        assertContains(
            report,
            "# config file: /etc/sluice/config.yaml",
            "tcp: 0.0.0.0:9000", "# config file\n",
            "db: /home/ada/.local/state/sluice/sluice.db",
            "unix: /home/ada/.local/state/sluice/sluice.sock",
            "upstream: https://ai-gateway.vercel.sh/v1",
            "upstream_timeout: 5m", "max_body: 1MiB", "# --max-body",
            "log_level: debug", "# SLUICE_LOG_LEVEL", "log_format: text",
            "  ttl: 12h", "  scope: shared", "  max_size: 512MiB",
            "  default: {requests_per_minute: 60, burst: 10, tokens_per_minute: 1000, max_wait: 0s}",
            "    web: {requests_per_minute: 60, burst: 10, tokens_per_minute: 1000, max_wait: 2s}",
            "  - {name: web, key_id: \(ClientKeyEntry.sha256Hex(of: clientKey).prefix(12))}",
            "  retention: 30d",
            "upstream_credential: vck_…1234 (from VERCEL_AI_GATEWAY_API_KEY)",
            "  http-referer: https://example.com"
        )
    }

    func testNeverPrintsASecret() throws {
        let report = SettingsReport.render(try load("keys:\n  - {name: web, key: \(clientKey)}\n"))
        XCTAssertFalse(report.contains(clientKey))
        XCTAssertFalse(report.contains(ClientKeyEntry.sha256Hex(of: clientKey)), "only the 12-digit key id, not the whole hash")
        XCTAssertFalse(report.contains(upstreamKey))
        XCTAssertFalse(report.contains(String(upstreamKey.dropLast(4))))
    }

    func testDefaultsAndPassThrough() throws {
        let configuration = try load(nil, environment: ["VERCEL_AI_GATEWAY_API_KEY": ""])
        XCTAssertNil(configuration.configFilePath)
        XCTAssertNil(configuration.upstream.credential)
        let report = SettingsReport.render(configuration)
        assertContains(report, "# config file: none", "keys: none", "pass-through", "upstream_credential: none", "attribution: none",
                       "tcp: 127.0.0.1:8787", "# default", "limits:\n  default: {requests_per_minute: 600, burst: 60")
    }

    func testListenersOff() throws {
        let report = SettingsReport.render(try load(nil, flags: [.tcp: "off"]))
        assertContains(report, "tcp: off")
    }

    func testLoadReportsAMissingConfigFile() {
        XCTAssertEqual(
            assertConfigError {
                try Configuration.load(configFlag: nil, flags: [:], environment: ["SLUICE_CONFIG": "/nope.yaml", "HOME": "/h"]) { _ in nil }
            },
            "config file /nope.yaml: no such file"
        )
    }

    func testLoadReadsTheConfigFileAgainOnEveryCall() throws {
        var text = "log_level: debug\n"
        let read: (String) -> String? = { _ in text }
        let first = try Configuration.load(configFlag: "/c.yaml", flags: [:], environment: ["HOME": "/h"], readFile: read)
        text = "log_level: error\n"
        let second = try Configuration.load(configFlag: "/c.yaml", flags: [:], environment: ["HOME": "/h"], readFile: read)
        XCTAssertEqual(first.settings.logLevel, .debug)
        XCTAssertEqual(second.settings.logLevel, .error)
    }
}
