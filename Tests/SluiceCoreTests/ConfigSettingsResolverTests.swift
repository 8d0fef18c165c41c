import SluiceCore
import XCTest

final class ConfigSettingsResolverTests: XCTestCase {
    private let home = ["HOME": "/home/ada"]

    private func resolve(
        file: String? = nil, environment: [String: String]? = nil, flags: [SettingName: String] = [:]
    ) throws -> Settings {
        try SettingsResolver.resolve(
            file: file.map { SettingsResolver.FileText(path: "/etc/sluice/config.yaml", text: $0) },
            environment: environment ?? home, flags: flags
        )
    }

    func testNoFileNoVariablesNoFlagsGivesTheDocumentedDefaults() throws {
        let settings = try resolve()
        XCTAssertEqual(settings.tcp, HostAndPort(host: "127.0.0.1", port: 8787))
        XCTAssertEqual(settings.databasePath, "/home/ada/.local/state/sluice/sluice.db")
        XCTAssertEqual(settings.unixSocketPath, "/home/ada/.local/state/sluice/sluice.sock")
        XCTAssertEqual(settings.upstream, "https://ai-gateway.vercel.sh/v1")
        XCTAssertEqual(settings.upstreamTimeout, .seconds(300))
        XCTAssertEqual(settings.maxBodyBytes, 16 << 20)
        XCTAssertEqual(settings.logLevel, .info)
        XCTAssertEqual(settings.logFormat, .text)
        XCTAssertNil(settings.keys)
        XCTAssertEqual(settings.cache, CacheSettings())
        XCTAssertEqual(settings.limits, LimitSettings())
        XCTAssertEqual(settings.usage, UsageSettings())
    }

    /// One row per setting: a value for each source, and how to read the result.
    private struct PrecedenceCase {
        let setting: SettingName
        let flag: String, env: String, file: String
        let defaultValue: String
        let read: (Settings) -> String
    }

    private let cases: [PrecedenceCase] = [
        PrecedenceCase(setting: .tcp, flag: "127.0.0.1:1", env: "127.0.0.1:2", file: "127.0.0.1:3",
                       defaultValue: "127.0.0.1:8787") { $0.tcp?.description ?? "off" },
        PrecedenceCase(setting: .unix, flag: "/f.sock", env: "/e.sock", file: "/c.sock",
                       defaultValue: "/home/ada/.local/state/sluice/sluice.sock") { $0.unixSocketPath ?? "off" },
        PrecedenceCase(setting: .db, flag: "/f.db", env: "/e.db", file: "/c.db",
                       defaultValue: "/home/ada/.local/state/sluice/sluice.db") { $0.databasePath },
        PrecedenceCase(setting: .upstream, flag: "http://f", env: "http://e", file: "http://c",
                       defaultValue: "https://ai-gateway.vercel.sh/v1") { $0.upstream },
        PrecedenceCase(setting: .upstreamTimeout, flag: "1s", env: "2s", file: "3s",
                       defaultValue: "5m") { DurationFormatter.format($0.upstreamTimeout) },
        PrecedenceCase(setting: .maxBody, flag: "1KiB", env: "2KiB", file: "3KiB",
                       defaultValue: "16MiB") { ByteSizeFormatter.format($0.maxBodyBytes) },
        PrecedenceCase(setting: .logLevel, flag: "trace", env: "debug", file: "error",
                       defaultValue: "info") { $0.logLevel.rawValue },
        PrecedenceCase(setting: .logFormat, flag: "json", env: "text", file: "json",
                       defaultValue: "text") { $0.logFormat.rawValue },
        PrecedenceCase(setting: .idleTimeout, flag: "1s", env: "2s", file: "3s",
                       defaultValue: "1m") { DurationFormatter.format($0.idleTimeout) },
        PrecedenceCase(setting: .maxConnections, flag: "10", env: "20", file: "30",
                       defaultValue: "4096") { String($0.maxConnections) },
        PrecedenceCase(setting: .shutdownTimeout, flag: "1s", env: "2s", file: "3s",
                       defaultValue: "30s") { DurationFormatter.format($0.shutdownTimeout) },
        PrecedenceCase(setting: .allowedHosts, flag: "f.internal", env: "e.internal", file: "c.internal",
                       defaultValue: "") { $0.webAccess.allowedHosts.sorted().joined(separator: ",") },
        PrecedenceCase(setting: .allowedOrigins, flag: "https://f.example", env: "https://e.example", file: "https://c.example",
                       defaultValue: "") { $0.webAccess.allowedOrigins.sorted().joined(separator: ",") },
    ]

    func testFlagBeatsEnvironmentBeatsFileBeatsDefaultForEverySetting() throws {
        XCTAssertEqual(Set(cases.map(\.setting)), Set(SettingName.allCases), "every setting is covered")
        for row in cases {
            let name = row.setting.rawValue
            let file = "\(name): \(row.file)\n"
            let environment = home.merging([row.setting.environmentVariable: row.env]) { $1 }
            let flags = [row.setting: row.flag]

            XCTAssertEqual(row.read(try resolve()), row.defaultValue, "\(name): default")
            XCTAssertEqual(row.read(try resolve(file: file)), row.read(try resolve(flags: [row.setting: row.file])),
                           "\(name): file beats default")
            XCTAssertNotEqual(row.read(try resolve(file: file)), row.defaultValue, "\(name): file beats default")
            XCTAssertEqual(row.read(try resolve(file: file, environment: environment)),
                           row.read(try resolve(flags: [row.setting: row.env])), "\(name): env beats file")
            XCTAssertEqual(row.read(try resolve(file: file, environment: environment, flags: flags)),
                           row.read(try resolve(flags: flags)), "\(name): flag beats env")
            XCTAssertNotEqual(row.read(try resolve(file: file, environment: environment, flags: flags)),
                              row.read(try resolve(file: file, environment: environment)), "\(name): flag beats env")
        }
    }

    func testOriginsSayWhereEachValueCameFrom() throws {
        let resolution = try SettingsResolver.resolveWithOrigins(
            file: SettingsResolver.FileText(path: "/c.yaml", text: "tcp: 127.0.0.1:1\nlog_level: debug\nmax_body: 1KiB\n"),
            environment: home.merging(["SLUICE_LOG_LEVEL": "error", "SLUICE_MAX_BODY": "2KiB"]) { $1 },
            flags: [.maxBody: "3KiB"]
        )
        XCTAssertEqual(resolution.origins[.tcp], .configFile)
        XCTAssertEqual(resolution.origins[.logLevel], .environment)
        XCTAssertEqual(resolution.origins[.maxBody], .flag)
        XCTAssertEqual(resolution.origins[.db], .default)
        XCTAssertEqual(resolution.settings.maxBodyBytes, 3 * 1024)
    }

    func testOffDisablesAListener() throws {
        XCTAssertNil(try resolve(flags: [.tcp: "off"]).tcp)
        XCTAssertNil(try resolve(file: "unix: off\n").unixSocketPath)
        XCTAssertEqual(try resolve(file: "tcp: off\n", flags: [.tcp: "[::1]:9000"]).tcp, HostAndPort(host: "::1", port: 9000))
    }

    func testBothListenersOffIsAnError() {
        assertContains(
            assertConfigError { try self.resolve(file: "tcp: off\n", flags: [.unix: "off"]) },
            "both listeners are off"
        )
    }

    func testAnEmptyVariableCountsAsUnset() throws {
        let settings = try resolve(file: "log_level: debug\n", environment: home.merging(["SLUICE_LOG_LEVEL": ""]) { $1 })
        XCTAssertEqual(settings.logLevel, .debug)
    }

    func testErrorsSayWhichSourceHoldsTheBadValue() {
        XCTAssertEqual(
            assertConfigError { try self.resolve(file: "cache:\n  ttl: abc\n") },
            #"config file /etc/sluice/config.yaml: cache.ttl: "abc" is not a duration (use 90s, 15m, 24h, 7d)"#
        )
        XCTAssertEqual(
            assertConfigError { try self.resolve(environment: self.home.merging(["SLUICE_UPSTREAM_TIMEOUT": "soon"]) { $1 }) },
            #"environment variable SLUICE_UPSTREAM_TIMEOUT: "soon" is not a duration (use 90s, 15m, 24h, 7d)"#
        )
        XCTAssertEqual(
            assertConfigError { try self.resolve(flags: [.maxBody: "huge"]) },
            #"--max-body: "huge" is not a size (use 512KiB, 16MiB, 1GiB)"#
        )
    }

    func testOverriddenValuesAreStillChecked() {
        assertContains(
            assertConfigError { try self.resolve(file: "tcp: nonsense\n", flags: [.tcp: "127.0.0.1:1"]) },
            "config file /etc/sluice/config.yaml: tcp:"
        )
    }

    func testFileOnlySectionsComeThrough() throws {
        let settings = try resolve(file: "cache: {scope: shared}\nusage: {retention: 7d}\nkeys: [{name: a, key: k-1}]\n")
        XCTAssertEqual(settings.cache.scope, .shared)
        XCTAssertEqual(settings.usage.retention, .seconds(7 * 86_400))
        XCTAssertEqual(settings.keys?.map(\.name), ["a"])
    }

    // MARK: Default paths

    func testDatabaseDefaultsToTheStateDirectoryFirst() throws {
        let environment = ["STATE_DIRECTORY": "/var/lib/sluice:/var/lib/other", "XDG_STATE_HOME": "/x", "HOME": "/h"]
        XCTAssertEqual(try resolve(environment: environment).databasePath, "/var/lib/sluice/sluice.db")
    }

    func testDatabaseDefaultsToXDGStateHomeThenHome() throws {
        XCTAssertEqual(try resolve(environment: ["XDG_STATE_HOME": "/x/state", "HOME": "/h"]).databasePath, "/x/state/sluice/sluice.db")
        XCTAssertEqual(try resolve(environment: ["XDG_STATE_HOME": "relative", "HOME": "/h"]).databasePath,
                       "/h/.local/state/sluice/sluice.db", "a relative XDG_STATE_HOME is ignored")
        XCTAssertEqual(try resolve(environment: ["HOME": "/h/"]).databasePath, "/h/.local/state/sluice/sluice.db")
    }

    func testNoPlaceForTheDatabaseIsAnError() {
        assertContains(assertConfigError { try self.resolve(environment: [:]) }, "no database path", "--db")
        XCTAssertNoThrow(try resolve(environment: [:], flags: [.db: "/tmp/s.db"]))
    }

    func testSocketDefaultsToTheRuntimeDirectoryElseBesideTheDatabase() throws {
        let runtime = ["RUNTIME_DIRECTORY": "/run/sluice:/run/other", "HOME": "/h"]
        XCTAssertEqual(try resolve(environment: runtime).unixSocketPath, "/run/sluice/sluice.sock")
        XCTAssertEqual(try resolve(flags: [.db: "/srv/data/my.db"]).unixSocketPath, "/srv/data/sluice.sock")
        XCTAssertEqual(try resolve(flags: [.db: "my.db"]).unixSocketPath, "sluice.sock")
        XCTAssertEqual(try resolve(environment: ["STATE_DIRECTORY": "/var/lib/sluice"]).unixSocketPath, "/var/lib/sluice/sluice.sock")
    }

    func testADefaultSocketPathThatIsTooLongSaysHowToFixIt() {
        let deep = "/" + String(repeating: "x", count: 110) + "/s.db"
        assertContains(assertConfigError { try self.resolve(flags: [.db: deep]) }, "unix (the default", "--unix")
        XCTAssertNoThrow(try resolve(flags: [.db: deep, .unix: "off"]))
    }

    // MARK: Config file location

    func testConfigFilePathComesFromTheFlagElseTheVariable() {
        XCTAssertEqual(SettingsResolver.configFilePath(flag: "/a.yaml", environment: ["SLUICE_CONFIG": "/b.yaml"]), "/a.yaml")
        XCTAssertEqual(SettingsResolver.configFilePath(flag: nil, environment: ["SLUICE_CONFIG": "/b.yaml"]), "/b.yaml")
        XCTAssertNil(SettingsResolver.configFilePath(flag: nil, environment: ["SLUICE_CONFIG": ""]))
        XCTAssertNil(SettingsResolver.configFilePath(flag: nil, environment: [:]))
    }

    func testANamedConfigFileThatIsMissingOrUnreadableIsAnErrorNamingIt() {
        struct Denied: Error, CustomStringConvertible { var description: String { "Permission denied" } }
        XCTAssertEqual(
            assertConfigError { try SettingsResolver.FileText.load(configFlag: "/etc/nope.yaml", environment: [:]) { _ in nil } },
            "config file /etc/nope.yaml: no such file"
        )
        XCTAssertEqual(
            assertConfigError {
                try SettingsResolver.FileText.load(configFlag: nil, environment: ["SLUICE_CONFIG": "/etc/s.yaml"]) { _ in throw Denied() }
            },
            "config file /etc/s.yaml: cannot read it (Permission denied)"
        )
    }
}
