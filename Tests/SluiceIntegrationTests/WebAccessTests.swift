import Foundation
import XCTest

/// What a web page may do to the daemon over TCP (CONTRACT, "HTTP surface"):
/// a foreign `Origin` or `Host` is refused with 403 before anything reaches
/// upstream and leaves a usage row; an allowed origin gets CORS; the Unix
/// socket is not checked. `BrowserTests` does the same with a real browser.
final class WebAccessTests: DaemonTestCase {
    static let foreignOrigin = "https://evil.example"
    static let appOrigin = "https://app.example"

    // MARK: Origin

    func testAForeignOriginIsRefusedOnEveryRouteAndNeverReachesUpstream() async throws {
        let daemon = try await startDaemon()
        let endpoint = try daemon.endpoint(.tcp)
        let origin = [("origin", Self.foreignOrigin)]

        let chat = try await http.post(chatPath, to: endpoint, headers: origin, body: OpenAIRequests.chat("from evil"))
        let textPlain = try await http.post(
            chatPath, to: endpoint, headers: origin + [("content-type", "text/plain")], body: OpenAIRequests.chat("simple request"))
        let health = try await http.get("/healthz", to: endpoint, headers: origin)
        let metrics = try await http.get("/metrics", to: endpoint, headers: origin)
        let models = try await http.get("/v1/models", to: endpoint, headers: origin)

        for (label, answer) in [("chat", chat), ("text/plain chat", textPlain), ("/healthz", health),
                                ("/metrics", metrics), ("/v1/models", models)] {
            assertRefused(answer, code: "origin_not_allowed", label)
        }
        XCTAssertFalse(chat.text.contains("from evil"), "the refusal does not echo the request")
        XCTAssertEqual(gateway.recorder.requests.count, 0, "a refused request never reaches upstream: \(gateway.recorder.requests.map(\.path))")

        let rows = try await waitForRows(daemon, count: 5)
        XCTAssertEqual(rows.map(\.status), Array(repeating: 403, count: 5), rows.map(\.summary).description)
        XCTAssertEqual(rows.map(\.errorCode), Array(repeating: "origin_not_allowed", count: 5), rows.map(\.summary).description)
        XCTAssertEqual(rows.filter { $0.route.contains("chat") }.count, 2, "the chat rows name their route: \(rows.map(\.summary))")
        XCTAssertTrue(rows.allSatisfy { $0.spent == nil }, "nothing was spent: \(rows.map(\.summary))")
    }

    func testOriginsAreComparedWholeSchemeHostAndPort() async throws {
        var launch = defaultLaunch()
        launch.environment["SLUICE_ALLOWED_ORIGINS"] = "\(Self.appOrigin),http://localhost:3000"
        let daemon = try await startDaemon(launch)
        let endpoint = try daemon.endpoint(.tcp)

        for near in ["http://app.example", "https://app.example:8443", "https://evil.app.example",
                     "https://app.example.evil", "http://localhost:3001", "null"] {
            let answer = try await http.get("/healthz", to: endpoint, headers: [("origin", near)])
            assertRefused(answer, code: "origin_not_allowed", "origin \(near)")
        }
        for listed in [Self.appOrigin, "http://localhost:3000", "HTTPS://APP.EXAMPLE"] {
            let answer = try await http.get("/healthz", to: endpoint, headers: [("origin", listed)])
            XCTAssertEqual(answer.status, 200, "listed origin \(listed): \(answer.text)")
        }
    }

    func testCrossSiteFetchMetadataWithoutOriginIsRefused() async throws {
        let daemon = try await startDaemon()
        let endpoint = try daemon.endpoint(.tcp)

        for site in ["cross-site", "same-site"] {
            let health = try await http.get("/healthz", to: endpoint, headers: [("sec-fetch-site", site)])
            let chat = try await http.post(chatPath, to: endpoint, headers: [("sec-fetch-site", site)], body: OpenAIRequests.chat("img tag"))
            assertRefused(health, code: "origin_not_allowed", "GET /healthz with sec-fetch-site: \(site)")
            assertRefused(chat, code: "origin_not_allowed", "POST chat with sec-fetch-site: \(site)")
        }
        // Typed into the address bar, or from the daemon's own pages: not another site.
        for site in ["none", "same-origin"] {
            let health = try await http.get("/healthz", to: endpoint, headers: [("sec-fetch-site", site)])
            XCTAssertEqual(health.status, 200, "sec-fetch-site: \(site): \(health.text)")
        }
        XCTAssertEqual(gateway.recorder.requests.count, 0)
        let rows = try await waitForRows(daemon, count: 4)
        XCTAssertEqual(rows.map(\.errorCode), Array(repeating: "origin_not_allowed", count: 4), rows.map(\.summary).description)
    }

    // MARK: Host (DNS rebinding)

    func testAForeignHostIsRefusedAsDNSRebinding() async throws {
        let daemon = try await startDaemon()
        let endpoint = try daemon.endpoint(.tcp)

        let chat = try await RawHTTP.send("POST", chatPath, to: endpoint, host: "evil.example:8787", body: OpenAIRequests.chat("rebound"))
        let health = try await RawHTTP.send("GET", "/healthz", to: endpoint, host: "evil.example:8787")
        let metrics = try await RawHTTP.send("GET", "/metrics", to: endpoint, host: "evil.example")
        let dotted = try await RawHTTP.send("GET", "/healthz", to: endpoint, host: "localhost.evil.example")

        assertRefused(chat, code: "host_not_allowed", "POST chat with Host evil.example:8787")
        assertRefused(health, code: "host_not_allowed", "/healthz with Host evil.example:8787")
        assertRefused(metrics, code: "host_not_allowed", "/metrics with Host evil.example")
        assertRefused(dotted, code: "host_not_allowed", "Host localhost.evil.example")
        XCTAssertEqual(gateway.recorder.requests.count, 0, "a refused request never reaches upstream")

        let rows = try await waitForRows(daemon, count: 4)
        XCTAssertEqual(rows.map(\.status), Array(repeating: 403, count: 4), rows.map(\.summary).description)
        XCTAssertEqual(rows.map(\.errorCode), Array(repeating: "host_not_allowed", count: 4), rows.map(\.summary).description)
    }

    func testAForeignHostGivenToAsyncHTTPClientIsRefusedToo() async throws {
        // The same refusal when the client library is told the Host: AsyncHTTPClient
        // keeps a Host header it is given, so SDK-style clients behave like raw ones.
        let daemon = try await startDaemon()
        let answer = try await http.get("/healthz", to: daemon.endpoint(.tcp), headers: [("host", "evil.example:8787")])
        assertRefused(answer, code: "host_not_allowed", "AsyncHTTPClient with Host evil.example:8787")
    }

    func testIPLiteralsLocalhostListedNamesAndNoHostAreServed() async throws {
        var launch = defaultLaunch()
        launch.environment["SLUICE_ALLOWED_HOSTS"] = "sluice.internal,Other.Internal"
        let daemon = try await startDaemon(launch)
        let endpoint = try daemon.endpoint(.tcp)
        let port = daemon.tcpPort ?? 0

        let served: [String?] = [
            "127.0.0.1:\(port)", "127.0.0.1", "10.1.2.3:9", "[::1]:\(port)", "[::1]", "[fe80::1]:8787",
            "localhost", "localhost:\(port)", "LOCALHOST:1", "localhost.",
            "sluice.internal", "sluice.internal:\(port)", "SLUICE.INTERNAL", "other.internal:80",
            nil,
        ]
        for host in served {
            let answer = try await RawHTTP.send("GET", "/healthz", to: endpoint, host: host)
            XCTAssertEqual(answer.status, 200, "Host \(host ?? "(none)"): \(answer.text)")
        }
        let chat = try await RawHTTP.send("POST", chatPath, to: endpoint, host: "sluice.internal:\(port)", body: OpenAIRequests.chat("by name"))
        XCTAssertEqual(chat.status, 200, chat.text)
        XCTAssertEqual(gateway.recorder.requests.count, 1)

        for refused in ["internal", "evil.sluice.internal", "sluice.internal.evil", "256.1.1.1", "127.0.0.1.evil.example"] {
            let answer = try await RawHTTP.send("GET", "/healthz", to: endpoint, host: refused)
            assertRefused(answer, code: "host_not_allowed", "Host \(refused)")
        }
    }

    // MARK: CORS for an allowed origin

    func testAnAllowedOriginGetsPreflightAndCORSHeaders() async throws {
        var launch = defaultLaunch()
        launch.environment["SLUICE_ALLOWED_ORIGINS"] = Self.appOrigin
        let daemon = try await startDaemon(launch)
        let endpoint = try daemon.endpoint(.tcp)

        let preflight = try await http.send(.OPTIONS, chatPath, to: endpoint, headers: [
            ("origin", Self.appOrigin),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "authorization, content-type"),
        ])
        XCTAssertEqual(preflight.status, 204, preflight.text)
        XCTAssertEqual(preflight.header("access-control-allow-origin"), Self.appOrigin)
        XCTAssertTrue(list(preflight, "access-control-allow-methods").contains("post"), "allow-methods: \(preflight.headers)")
        let allowedHeaders = list(preflight, "access-control-allow-headers")
        XCTAssertTrue(allowedHeaders.isSuperset(of: ["authorization", "content-type"]), "allow-headers: \(preflight.headers)")
        XCTAssertGreaterThan(Int(preflight.header("access-control-max-age") ?? "") ?? 0, 0, "max-age: \(preflight.headers)")
        XCTAssertNil(preflight.header("access-control-allow-credentials"), "no cookies are involved")
        XCTAssertEqual(gateway.recorder.requests.count, 0, "a preflight is answered by Sluice, not forwarded")

        let post = try await http.post(chatPath, to: endpoint, headers: [("origin", Self.appOrigin)], body: OpenAIRequests.chat("from the app"))
        XCTAssertEqual(post.status, 200, post.text)
        XCTAssertEqual(post.header("access-control-allow-origin"), Self.appOrigin)
        XCTAssertTrue(list(post, "vary").contains("origin"), "vary: \(post.headers)")
        XCTAssertTrue(list(post, "access-control-expose-headers").contains("x-sluice-cache"), "expose-headers: \(post.headers)")
        XCTAssertEqual(post.header("x-sluice-cache"), "miss")
        XCTAssertEqual(gateway.recorder.requests.count, 1)

        let hit = try await http.post(chatPath, to: endpoint, headers: [("origin", Self.appOrigin)], body: OpenAIRequests.chat("from the app"))
        XCTAssertEqual(hit.header("x-sluice-cache"), "hit")
        XCTAssertEqual(hit.header("access-control-allow-origin"), Self.appOrigin, "a cache hit carries CORS too")

        let failed = try await http.post(chatPath, to: endpoint, headers: [("origin", Self.appOrigin)], body: Data("{not json".utf8))
        XCTAssertOpenAIError(failed, status: 400, "bad JSON from an allowed origin")
        XCTAssertEqual(failed.header("access-control-allow-origin"), Self.appOrigin, "the page may read Sluice's own errors")

        let noOrigin = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("from curl"))
        XCTAssertEqual(noOrigin.status, 200)
        XCTAssertNil(noOrigin.header("access-control-allow-origin"), "no CORS headers without an Origin")

        let foreign = try await http.send(.OPTIONS, chatPath, to: endpoint, headers: [
            ("origin", Self.foreignOrigin), ("access-control-request-method", "POST"),
        ])
        assertRefused(foreign, code: "origin_not_allowed", "preflight from a foreign origin")
        XCTAssertNil(foreign.header("access-control-allow-origin"), "no CORS for a foreign origin")
        XCTAssertEqual(gateway.recorder.requests.count, 2, "only the two accepted POSTs went upstream")
    }

    func testAllowedOriginsAndHostsComeFromTheConfigFile() async throws {
        let config = try writeConfig("""
            allowed_hosts: [sluice.internal]
            allowed_origins: [\(Self.appOrigin)]
            """)
        let daemon = try await startDaemon(launch(config: config))
        let endpoint = try daemon.endpoint(.tcp)

        let app = try await RawHTTP.send("GET", "/healthz", to: endpoint, host: "sluice.internal", headers: [("origin", Self.appOrigin)])
        XCTAssertEqual(app.status, 200, app.text)
        XCTAssertEqual(app.header("access-control-allow-origin"), Self.appOrigin)
        let foreign = try await http.get("/healthz", to: endpoint, headers: [("origin", Self.foreignOrigin)])
        assertRefused(foreign, code: "origin_not_allowed", "an origin not in the file")
    }

    // MARK: The Unix socket is not checked

    func testTheUnixSocketServesForeignOriginsAndHosts() async throws {
        let daemon = try await startDaemon()
        let socket = try daemon.endpoint(.unixSocket)

        let origin = try await http.post(chatPath, to: socket, headers: [("origin", Self.foreignOrigin), ("sec-fetch-site", "cross-site")],
                                         body: OpenAIRequests.chat("over the socket"))
        let host = try await RawHTTP.send("POST", chatPath, to: socket, host: "evil.example:8787",
                                          headers: [("origin", Self.foreignOrigin)], body: OpenAIRequests.chat("rebound socket"))
        let health = try await RawHTTP.send("GET", "/healthz", to: socket, host: "evil.example:8787")

        XCTAssertEqual(origin.status, 200, origin.text)
        XCTAssertEqual(host.status, 200, host.text)
        XCTAssertEqual(health.status, 200, health.text)
        XCTAssertEqual(gateway.recorder.requests.count, 2, "both chats reached upstream")

        // The same requests on TCP, for contrast.
        let tcp = try await RawHTTP.send("POST", chatPath, to: daemon.endpoint(.tcp), host: "evil.example:8787",
                                         body: OpenAIRequests.chat("rebound socket"))
        assertRefused(tcp, code: "host_not_allowed", "the same request on TCP")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
    }

    // MARK: Settings

    func testConfigCheckRefusesWildcardAndNullOrigins() async throws {
        let base = ["config", "check", "--db", directory.file("c.db"), "--upstream", gateway.baseURL]
        for bad in ["*", "null"] {
            let fromEnv = try await SluiceCommand.run(base, environment: ["SLUICE_ALLOWED_ORIGINS": "\(Self.appOrigin),\(bad)"], in: directory)
            assertOneLineRefusal(fromEnv, mentioning: bad, "SLUICE_ALLOWED_ORIGINS with \(bad)")

            let file = try writeConfig("allowed_origins: [\"\(bad)\"]\n", name: "bad-\(bad == "*" ? "star" : bad).yaml")
            let fromFile = try await SluiceCommand.run(base + ["--config", file], in: directory)
            assertOneLineRefusal(fromFile, mentioning: bad, "allowed_origins: [\(bad)] in the file")
        }
        let good = try await SluiceCommand.run(base, environment: ["SLUICE_ALLOWED_ORIGINS": Self.appOrigin], in: directory)
        XCTAssertEqual(good.exitCode, 0, good.standardError)
        XCTAssertTrue(good.standardOutput.contains(Self.appOrigin), "the effective origins are printed:\n\(good.standardOutput)")
    }

    func testServeRefusesToStartWithAWildcardOrigin() async throws {
        let result = try await SluiceCommand.run(
            ["serve", "--db", directory.file("c.db"), "--upstream", gateway.baseURL, "--tcp", "127.0.0.1:\(try FreePort.make())", "--unix", "off"],
            environment: ["SLUICE_ALLOWED_ORIGINS": "*"], in: directory, timeout: .seconds(10))
        XCTAssertNotEqual(result.exitCode, 0, "serve started with allowed_origins *")
        XCTAssertTrue(result.standardError.contains("*"), result.standardError)
    }

    // MARK: Helpers

    /// A 403 in the OpenAI error shape with `permission_error`, `param: null` and `code`.
    private func assertRefused(_ answer: HTTPResult, code: String, _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertOpenAIError(answer, status: 403, context, file: file, line: line)
        let error = answer.json?["error"] as? [String: Any]
        XCTAssertEqual(error?["type"] as? String, "permission_error", "\(context): \(answer.text)", file: file, line: line)
        XCTAssertEqual(error?["code"] as? String, code, "\(context): \(answer.text)", file: file, line: line)
        XCTAssertTrue(error?["param"] is NSNull, "\(context): error.param should be null in \(answer.text)", file: file, line: line)
    }

    /// The comma-separated, lowercased items of header `name`.
    private func list(_ answer: HTTPResult, _ name: String) -> Set<String> {
        Set(answer.headers[name].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }

    private func assertOneLineRefusal(_ result: CommandResult, mentioning value: String, _ context: String,
                                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(result.exitCode, 0, "\(context): config check accepted it:\n\(result.standardOutput)", file: file, line: line)
        let lines = result.standardError.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        XCTAssertEqual(lines.count, 1, "\(context): one clear line on stderr, got:\n\(result.standardError)", file: file, line: line)
        XCTAssertTrue(result.standardError.contains(value), "\(context): stderr does not name \(value):\n\(result.standardError)", file: file, line: line)
        XCTAssertTrue(result.standardError.lowercased().contains("origin"), "\(context): stderr does not say which setting:\n\(result.standardError)", file: file, line: line)
        XCTAssertFalse(result.standardError.contains("Fatal error"), result.standardError, file: file, line: line)
    }

    /// The usage rows once `count` are written (the flusher runs in the background).
    private func waitForRows(_ daemon: DaemonProcess, count: Int, file: StaticString = #filePath, line: UInt = #line) async throws -> [StoredUsageRow] {
        var rows: [StoredUsageRow] = []
        let written = try await eventually(within: .seconds(8)) {
            rows = (try? UsageTable.rowsNow(at: daemon.databasePath)) ?? []
            return rows.count >= count
        }
        XCTAssertTrue(written, "expected \(count) usage rows, found \(rows.count): \(rows.map(\.summary))", file: file, line: line)
        // Give a stray extra row the chance to show.
        try await Task.sleep(for: .milliseconds(300))
        rows = (try? UsageTable.rowsNow(at: daemon.databasePath)) ?? rows
        XCTAssertEqual(rows.count, count, "one row per request: \(rows.map(\.summary))", file: file, line: line)
        return rows
    }
}
