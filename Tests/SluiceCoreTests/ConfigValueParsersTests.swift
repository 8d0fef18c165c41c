import SluiceCore
import XCTest

final class ConfigValueParsersTests: XCTestCase {
    func testDurationsInEveryUnit() throws {
        XCTAssertEqual(try DurationParser.parse("500ms"), .milliseconds(500))
        XCTAssertEqual(try DurationParser.parse("90s"), .seconds(90))
        XCTAssertEqual(try DurationParser.parse("15m"), .seconds(900))
        XCTAssertEqual(try DurationParser.parse("24h"), .seconds(86_400))
        XCTAssertEqual(try DurationParser.parse("7d"), .seconds(604_800))
        XCTAssertEqual(try DurationParser.parse("0"), .zero)
        XCTAssertEqual(try DurationParser.parse("0s"), .zero)
        XCTAssertEqual(try DurationParser.parse(" 2s "), .seconds(2))
    }

    func testBadDurationsSayWhatIsWrong() {
        for text in ["abc", "", "15", "1.5h", "-5s", "5 m", "5M", "m", "10w", "99999999999999999999d"] {
            let message = assertConfigError { try DurationParser.parse(text) }
            XCTAssertTrue(message.contains(#""\#(text)""#) || message.contains("duration"), message)
        }
        XCTAssertEqual(
            assertConfigError { try DurationParser.parse("abc") },
            #""abc" is not a duration (use 90s, 15m, 24h, 7d)"#
        )
        assertContains(assertConfigError { try DurationParser.parse("999999999999999999d") }, "too long")
    }

    func testDurationFormattingUsesTheLargestExactUnit() {
        XCTAssertEqual(DurationFormatter.format(.seconds(300)), "5m")
        XCTAssertEqual(DurationFormatter.format(.seconds(90)), "90s")
        XCTAssertEqual(DurationFormatter.format(.seconds(86_400)), "24h")
        XCTAssertEqual(DurationFormatter.format(.seconds(90 * 86_400)), "90d")
        XCTAssertEqual(DurationFormatter.format(.seconds(36 * 3_600)), "36h")
        XCTAssertEqual(DurationFormatter.format(.milliseconds(1_500)), "1500ms")
        XCTAssertEqual(DurationFormatter.format(.zero), "0s")
    }

    func testDurationFormattingRoundTrips() throws {
        for text in ["500ms", "90s", "15m", "24h", "7d", "1500ms"] {
            XCTAssertEqual(DurationFormatter.format(try DurationParser.parse(text)), text)
        }
    }

    func testSizes() throws {
        XCTAssertEqual(try ByteSizeParser.parse("512KiB"), 512 * 1024)
        XCTAssertEqual(try ByteSizeParser.parse("16MiB"), 16 * 1024 * 1024)
        XCTAssertEqual(try ByteSizeParser.parse("1GiB"), 1 << 30)
        XCTAssertEqual(try ByteSizeParser.parse("2TiB"), 2 << 40)
        XCTAssertEqual(try ByteSizeParser.parse("1024"), 1024)
        XCTAssertEqual(try ByteSizeParser.parse("1024B"), 1024)
        XCTAssertEqual(try ByteSizeParser.parse("5KB"), 5_000)
        XCTAssertEqual(try ByteSizeParser.parse("3MB"), 3_000_000)
        XCTAssertEqual(try ByteSizeParser.parse("1GB"), 1_000_000_000)
    }

    func testBadSizes() {
        for text in ["", "MiB", "16 MiB", "16mib", "1.5GiB", "-1", "16Mi", "lots"] {
            assertContains(assertConfigError { try ByteSizeParser.parse(text) }, "is not a size (use 512KiB, 16MiB, 1GiB)")
        }
        assertContains(assertConfigError { try ByteSizeParser.parse("99999999999TiB") }, "too large")
    }

    func testSizeFormatting() throws {
        XCTAssertEqual(ByteSizeFormatter.format(16 * 1024 * 1024), "16MiB")
        XCTAssertEqual(ByteSizeFormatter.format(1 << 30), "1GiB")
        XCTAssertEqual(ByteSizeFormatter.format(1536), "1536B")
        XCTAssertEqual(ByteSizeFormatter.format(2_000_000), "2MB")
        XCTAssertEqual(ByteSizeFormatter.format(0), "0B")
        for text in ["512KiB", "16MiB", "1GiB", "5KB", "7B"] {
            XCTAssertEqual(ByteSizeFormatter.format(try ByteSizeParser.parse(text)), text)
        }
    }

    func testHostAndPort() throws {
        XCTAssertEqual(try HostAndPort.parse("127.0.0.1:8787"), HostAndPort(host: "127.0.0.1", port: 8787))
        XCTAssertEqual(try HostAndPort.parse("localhost:80"), HostAndPort(host: "localhost", port: 80))
        XCTAssertEqual(try HostAndPort.parse("[::1]:8787"), HostAndPort(host: "::1", port: 8787))
        XCTAssertEqual(try HostAndPort.parse("0.0.0.0:0"), HostAndPort(host: "0.0.0.0", port: 0))
        XCTAssertEqual(try HostAndPort.parse("[::1]:8787").description, "[::1]:8787")
    }

    func testBadHostAndPort() {
        for text in ["8787", ":8787", "localhost", "localhost:", "[::1]", "[::1:8787", "[]:80", "a b:80", "[host]:80"] {
            assertContains(assertConfigError { try HostAndPort.parse(text) }, #""\#(text)""#)
        }
        assertContains(assertConfigError { try HostAndPort.parse("::1:8787") }, "in brackets")
        assertContains(assertConfigError { try HostAndPort.parse("localhost:65536") }, "0 to 65535")
        assertContains(assertConfigError { try HostAndPort.parse("localhost:http") }, "0 to 65535")
        assertContains(assertConfigError { try HostAndPort.parse("localhost:-1") }, "0 to 65535")
    }

    func testUpstreamURL() throws {
        XCTAssertEqual(try UpstreamURL.normalize("https://ai-gateway.vercel.sh/v1/"), "https://ai-gateway.vercel.sh/v1")
        XCTAssertEqual(try UpstreamURL.normalize("http://127.0.0.1:9000//"), "http://127.0.0.1:9000")
        XCTAssertEqual(try UpstreamURL.normalize("http://[::1]:9000/v1"), "http://[::1]:9000/v1")
        XCTAssertEqual(try UpstreamURL.normalize("HTTPS://example.com"), "HTTPS://example.com")
    }

    func testBadUpstreamURL() {
        assertContains(assertConfigError { try UpstreamURL.normalize("ftp://example.com") }, "not an http:// or https:// URL")
        assertContains(assertConfigError { try UpstreamURL.normalize("example.com/v1") }, "not an http:// or https:// URL")
        assertContains(assertConfigError { try UpstreamURL.normalize("https:///v1") }, "has no host")
        assertContains(assertConfigError { try UpstreamURL.normalize("https://example.com:99999") }, "bad port")
        assertContains(assertConfigError { try UpstreamURL.normalize("https://example.com/v1?x=1") }, "query")
        let withPassword = assertConfigError { try UpstreamURL.normalize("https://me:hunter2secret@example.com") }
        assertContains(withPassword, "must not contain a user or password")
        XCTAssertFalse(withPassword.contains("hunter2secret"))
    }

    func testUnixSocketPathLength() throws {
        XCTAssertEqual(try UnixSocketPath.validate("/run/sluice/sluice.sock"), "/run/sluice/sluice.sock")
        let long = "/" + String(repeating: "d", count: 120) + "/sluice.sock"
        assertContains(assertConfigError { try UnixSocketPath.validate(long) }, "at most 107")
        assertContains(assertConfigError { try UnixSocketPath.validate("") }, "empty")
    }

    func testErrorsComposeTheirLocationOutermostFirst() {
        let error = ConfigError(#""abc" is not a duration"#).at("ttl").at("cache").at("config file /etc/sluice/config.yaml")
        XCTAssertEqual(error.description, #"config file /etc/sluice/config.yaml: cache: ttl: "abc" is not a duration"#)
        XCTAssertEqual(error.problem, #""abc" is not a duration"#)
    }
}
