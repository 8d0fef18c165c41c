import SluiceCore
import XCTest

final class ConfigFileTests: XCTestCase {
    private func parse(_ yaml: String) throws -> ConfigFile {
        try ConfigFile.parse(yaml: yaml)
    }

    private func parseError(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        assertConfigError({ try ConfigFile.parse(yaml: yaml) }, file: file, line: line)
    }

    func testEmptyFileAndCommentsOnlyGiveDefaults() throws {
        XCTAssertEqual(try parse(""), ConfigFile())
        XCTAssertEqual(try parse("# nothing here\n\n"), ConfigFile())
        XCTAssertEqual(try parse("---\n"), ConfigFile())
    }

    func testTheContractExample() throws {
        let digest = String(repeating: "ab", count: 32)
        let file = try parse("""
            tcp: 127.0.0.1:8787
            unix: /run/sluice/sluice.sock
            db: /var/lib/sluice/sluice.db
            upstream: https://ai-gateway.vercel.sh/v1/
            upstream_timeout: 300s
            max_body: 16MiB
            log_level: info
            log_format: json
            cache:
              ttl: 12h            # default lifetime of a stored answer
              scope: shared
              max_size: 2GiB
            limits:
              default: {requests_per_minute: 600, burst: 60, tokens_per_minute: 200_000}
              keys:
                web: {requests_per_minute: 120, burst: 20, tokens_per_minute: 50000, max_wait: 2s}
            keys:
              - {name: web, key: sk-local-web-example}
              - {name: batch, sha256: \(digest.uppercased())}
            usage:
              retention: 30d
            """)
        XCTAssertEqual(file.settings.tcp, .on(HostAndPort(host: "127.0.0.1", port: 8787)))
        XCTAssertEqual(file.settings.unix, .on("/run/sluice/sluice.sock"))
        XCTAssertEqual(file.settings.databasePath, "/var/lib/sluice/sluice.db")
        XCTAssertEqual(file.settings.upstream, "https://ai-gateway.vercel.sh/v1")
        XCTAssertEqual(file.settings.upstreamTimeout, .seconds(300))
        XCTAssertEqual(file.settings.maxBodyBytes, 16 << 20)
        XCTAssertEqual(file.settings.logLevel, .info)
        XCTAssertEqual(file.settings.logFormat, .json)
        XCTAssertEqual(file.cache, CacheSettings(ttl: .seconds(12 * 3600), scope: .shared, maxSizeBytes: 2 << 30))
        XCTAssertEqual(file.limits.default, RateLimit(requestsPerMinute: 600, burst: 60, tokensPerMinute: 200_000))
        XCTAssertEqual(
            file.limits.keys["web"],
            RateLimit(requestsPerMinute: 120, burst: 20, tokensPerMinute: 50_000, maxWait: .seconds(2))
        )
        XCTAssertEqual(file.keys, [
            ClientKeyEntry(name: "web", secret: .plain("sk-local-web-example")),
            ClientKeyEntry(name: "batch", secret: .sha256(digest)),
        ])
        XCTAssertEqual(file.usage.retention, .seconds(30 * 86_400))
    }

    func testOffAndNullValues() throws {
        let file = try parse("tcp: off\nunix: off\ndb: ~\ncache:\nkeys:\n")
        XCTAssertEqual(file.settings.tcp, .off)
        XCTAssertEqual(file.settings.unix, .off)
        XCTAssertNil(file.settings.databasePath)
        XCTAssertEqual(file.cache, CacheSettings())
        XCTAssertNil(file.keys, "an empty keys entry is pass-through, like no entry")
    }

    func testPerKeyLimitsStartFromTheDefault() throws {
        let file = try parse("""
            limits:
              keys:
                0123456789ab: {burst: 5}
              default: {requests_per_minute: 30, burst: 10, tokens_per_minute: 1000, max_wait: 500ms}
            """)
        XCTAssertEqual(
            file.limits.keys["0123456789ab"],
            RateLimit(requestsPerMinute: 30, burst: 5, tokensPerMinute: 1000, maxWait: .milliseconds(500))
        )
    }

    func testUnknownKeysAtEveryLevelNameTheirPath() {
        assertContains(parseError("tpc: 127.0.0.1:1\n"), "tpc: unknown key (expected one of: tcp, unix, db")
        assertContains(parseError("cache: {ttl: 1h, size: 1GiB}\n"), "cache.size: unknown key (expected one of: ttl, scope, max_size, stale_if_error)")
        assertContains(parseError("limits: {defaults: {}}\n"), "limits.defaults: unknown key")
        assertContains(parseError("limits: {default: {rpm: 5}}\n"), "limits.default.rpm: unknown key")
        assertContains(parseError("limits: {keys: {abcdefabcdef: {burts: 1}}}\n"), "limits.keys.abcdefabcdef.burts: unknown key")
        assertContains(parseError("keys:\n  - {name: a, key: k1}\n  - {name: b, token: k2}\n"), "keys[1].token: unknown key")
        assertContains(parseError("usage: {retain: 5d}\n"), "usage.retain: unknown key")
    }

    func testBadValuesNameTheirPath() {
        XCTAssertEqual(parseError("cache:\n  ttl: abc\n"), #"cache.ttl: "abc" is not a duration (use 90s, 15m, 24h, 7d)"#)
        assertContains(parseError("cache: {scope: global}\n"), #"cache.scope: "global" is not key or shared"#)
        assertContains(parseError("cache: {max_size: 0}\n"), "cache.max_size:", "out of range (1B to 1TiB)")
        assertContains(parseError("max_body: 16 MB\n"), "max_body:", "is not a size")
        assertContains(parseError("upstream_timeout: 0s\n"), "upstream_timeout:", "out of range (100ms to 24h)")
        assertContains(parseError("tcp: 8787\n"), "tcp:", "HOST:PORT")
        assertContains(parseError("log_level: loud\n"), #"log_level: "loud" is not one of trace, debug, info"#)
        assertContains(parseError("log_format: xml\n"), "log_format:", "text, json")
        assertContains(parseError("usage: {retention: 0}\n"), "usage.retention:", "out of range (1s to 3650d)")
        assertContains(parseError("upstream: [a, b]\n"), "upstream: expected a single value")
        assertContains(parseError("cache: 5\n"), "cache: expected a mapping")
        assertContains(parseError("- a\n- b\n"), "expected a mapping")
    }

    func testLimitsMustBeSensible() {
        assertContains(parseError("limits: {default: {requests_per_minute: -1}}\n"), "limits.default.requests_per_minute:", "must not be negative")
        assertContains(parseError("limits: {default: {tokens_per_minute: lots}}\n"), "limits.default.tokens_per_minute:", "is not a number")
        assertContains(parseError("limits: {default: {burst: 0.5}}\n"), "limits.default.burst: burst must be at least 1")
        assertContains(
            parseError("limits: {keys: {abcdefabcdef: {requests_per_minute: 5, burst: 0}}}\n"),
            "limits.keys.abcdefabcdef.burst: burst must be at least 1"
        )
        // burst 0 is fine when the request bucket is off.
        XCTAssertNoThrow(try parse("limits: {default: {requests_per_minute: 0, burst: 0}}\n"))
        assertContains(parseError("limits: {default: {max_wait: soon}}\n"), "limits.default.max_wait:", "not a duration")
    }

    func testLimitKeyIDsMustMatchAKey() throws {
        let named = try parse("keys: [{name: web, key: k-web-123}]\nlimits: {keys: {web: {burst: 2}, ABCDEF012345: {burst: 3}}}\n")
        XCTAssertEqual(named.limits.keys["web"]?.burst, 2)
        XCTAssertEqual(named.limits.keys["abcdef012345"]?.burst, 3, "hex key ids are kept in lowercase")

        assertContains(
            parseError("keys: [{name: web, key: k-web-123}]\nlimits: {keys: {wbe: {burst: 2}}}\n"),
            "limits.keys.wbe: no key has this name"
        )
        assertContains(parseError("limits: {keys: {web: {burst: 2}}}\n"), "limits.keys.web: is not a key id")
        assertContains(
            parseError("limits: {keys: {abcdef012345: {burst: 2}, ABCDEF012345: {burst: 3}}}\n"),
            "limits.keys.ABCDEF012345: a limit for this key id is already given"
        )
    }

    func testKeysListRules() {
        assertContains(parseError("keys: []\n"), "keys: the list is empty")
        assertContains(parseError("keys: {web: abc}\n"), "keys: expected a list")
        assertContains(parseError("keys:\n  - {key: k-1}\n"), "keys[0]: name is missing")
        assertContains(parseError("keys:\n  - {name: a}\n"), "keys[0]: give the key or its sha256")
        assertContains(parseError("keys:\n  - {name: 'a b', key: k}\n"), "keys[0].name:", "is not a key name")
        assertContains(
            parseError("keys:\n  - {name: a, key: k-1}\n  - {name: a, key: k-2}\n"),
            #"keys[1]: the name "a" is already used by keys[0]"#
        )
    }

    func testAKeyGivenBothWaysIsAnError() {
        let digest = String(repeating: "0", count: 64)
        assertContains(parseError("keys:\n  - {name: a, key: k-1, sha256: \(digest)}\n"), "keys[0]: give either key or sha256, not both")
    }

    func testTheSameKeyTwiceIsAnErrorThatDoesNotShowIt() {
        let secret = "sk-duplicate-secret-value"
        let digest = ClientKeyEntry.sha256Hex(of: secret)
        let message = parseError("keys:\n  - {name: a, key: \(secret)}\n  - {name: b, sha256: \(digest)}\n")
        assertContains(message, "keys[1]: the same key is already given by keys[0]")
        XCTAssertFalse(message.contains(secret))
    }

    func testABadDigestIsNotEchoed() {
        let pastedKey = "sk-this-is-the-real-key-by-mistake"
        let message = parseError("keys:\n  - {name: a, sha256: \(pastedKey)}\n")
        assertContains(message, "keys[0].sha256: is not 64 hex digits")
        XCTAssertFalse(message.contains(pastedKey))
        assertContains(parseError("keys:\n  - {name: a, sha256: \(String(repeating: "g", count: 64))}\n"), "not 64 hex digits")
    }

    func testYAMLSyntaxErrorsGiveALineAndNoFileText() {
        let secret = "sk-secret-on-a-bad-line"
        let message = parseError("keys:\n  - {name: a, key: \(secret)\n")
        assertContains(message, "line ", "not valid YAML")
        XCTAssertFalse(message.contains(secret))
        XCTAssertFalse(message.contains("\n"), "one line")

        assertContains(parseError("cache:\n  ttl: 1h\n  ttl: 2h\n"), #"the key "ttl" appears more than once"#)
    }
}
