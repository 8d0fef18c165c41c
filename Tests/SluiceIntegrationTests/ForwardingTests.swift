import XCTest

/// Requests go upstream with the right credential and headers, and answers come back unchanged.
final class ForwardingTests: DaemonTestCase {
    func testChatCompletionIsForwardedWithTheDaemonsCredential() async throws {
        let daemon = try await startDaemon()
        for transport in Transport.allCases {
            gateway.recorder.reset()
            let body = OpenAIRequests.chat("hello over \(transport)")
            let answer = try await http.post("/v1/chat/completions", to: daemon.endpoint(transport), body: body)

            XCTAssertEqual(answer.status, 200, "\(transport): \(answer.text)")
            let upstream = gateway.recorder.snapshot
            XCTAssertEqual(upstream.requests.count, 1, "\(transport): one upstream call")
            let seen = try XCTUnwrap(upstream.requests.first)
            XCTAssertEqual(seen.method, "POST")
            XCTAssertEqual(seen.path, "/v1/chat/completions")
            XCTAssertEqual(seen.header("authorization"), "Bearer \(DaemonLaunch.upstreamKey)", "\(transport)")
            XCTAssertSameJSON(seen.body, body, "\(transport): request body upstream")
            XCTAssertEqual(answer.body, upstream.answers.first?.body, "\(transport): answer body unchanged")
            XCTAssertEqual(answer.header("x-sluice-cache"), "miss", "\(transport)")
        }
    }

    func testClientBearerGoesUpstreamUnchangedInPassThroughMode() async throws {
        let daemon = try await startDaemon()
        for transport in Transport.allCases {
            gateway.recorder.reset()
            let answer = try await http.post(
                "/v1/chat/completions", to: daemon.endpoint(transport),
                headers: [("authorization", "Bearer sk-client-own-\(transport)")],
                body: OpenAIRequests.chat("own key over \(transport)")
            )
            XCTAssertEqual(answer.status, 200, "\(transport): \(answer.text)")
            XCTAssertEqual(gateway.recorder.requests.count, 1)
            XCTAssertEqual(gateway.recorder.requests.first?.header("authorization"), "Bearer sk-client-own-\(transport)")
        }
    }

    func testAttributionHeadersComeFromTheEnvironmentUnlessTheClientSetsThem() async throws {
        var launch = defaultLaunch()
        launch.environment = ["VERCEL_SITE_URL": "https://sluice.example", "VERCEL_APP_NAME": "Sluice Tests"]
        let daemon = try await startDaemon(launch)

        _ = try await http.post("/v1/chat/completions", to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("attribution"))
        let fromDaemon = try XCTUnwrap(gateway.recorder.requests.last)
        XCTAssertEqual(fromDaemon.header("http-referer"), "https://sluice.example")
        XCTAssertEqual(fromDaemon.header("x-title"), "Sluice Tests")

        _ = try await http.post(
            "/v1/chat/completions", to: daemon.endpoint(.unixSocket),
            headers: [("http-referer", "https://client.example"), ("x-title", "Client App")],
            body: OpenAIRequests.chat("attribution by client")
        )
        let fromClient = try XCTUnwrap(gateway.recorder.requests.last)
        XCTAssertEqual(fromClient.header("http-referer"), "https://client.example")
        XCTAssertEqual(fromClient.header("x-title"), "Client App")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
    }

    func testHopByHopHeadersStayOnTheClientsConnection() async throws {
        let daemon = try await startDaemon()
        for transport in Transport.allCases {
            gateway.recorder.reset()
            let answer = try await http.post(
                "/v1/chat/completions", to: daemon.endpoint(transport),
                headers: [
                    ("connection", "keep-alive, x-hop-secret"),
                    ("keep-alive", "timeout=5"),
                    ("x-hop-secret", "only-for-the-first-hop"),
                    ("proxy-authorization", "Basic cHJveHk6c2VjcmV0"),
                    ("te", "trailers"),
                    ("x-end-to-end", "kept"),
                ],
                body: OpenAIRequests.chat("hop by hop over \(transport)")
            )
            XCTAssertEqual(answer.status, 200, "\(transport): \(answer.text)")
            let seen = try XCTUnwrap(gateway.recorder.requests.first)
            for name in ["keep-alive", "x-hop-secret", "proxy-authorization", "te"] {
                XCTAssertNil(seen.header(name), "\(transport): hop-by-hop header \(name) reached upstream")
            }
            XCTAssertFalse(seen.header("connection")?.contains("x-hop-secret") ?? false, "\(transport)")
            XCTAssertEqual(seen.header("x-end-to-end"), "kept", "\(transport): end-to-end headers go upstream")
        }
    }

    func testRoutesWithoutV1AreAliases() async throws {
        let daemon = try await startDaemon()
        for transport in Transport.allCases {
            gateway.recorder.reset()
            let chat = try await http.post("/chat/completions", to: daemon.endpoint(transport), body: OpenAIRequests.chat("alias \(transport)"))
            let embeddings = try await http.post("/embeddings", to: daemon.endpoint(transport), body: OpenAIRequests.embeddings(["alias \(transport)"]))
            let models = try await http.get("/models", to: daemon.endpoint(transport))

            XCTAssertEqual([chat.status, embeddings.status, models.status], [200, 200, 200], "\(transport)")
            XCTAssertEqual(
                gateway.recorder.requests.map(\.path), ["/v1/chat/completions", "/v1/embeddings", "/v1/models"], "\(transport)"
            )
        }
    }

    func testEmbeddingsAndModelsAreForwarded() async throws {
        let daemon = try await startDaemon()
        for transport in Transport.allCases {
            gateway.recorder.reset()
            let body = OpenAIRequests.embeddings(["one \(transport)", "two"])
            let embeddings = try await http.post("/v1/embeddings", to: daemon.endpoint(transport), body: body)
            XCTAssertEqual(embeddings.status, 200, "\(transport): \(embeddings.text)")
            XCTAssertEqual((embeddings.json?["data"] as? [Any])?.count, 2)
            XCTAssertNotNil(embeddings.header("x-sluice-cache"), "\(transport)")

            let models = try await http.get("/v1/models", to: daemon.endpoint(transport))
            XCTAssertEqual(models.status, 200, "\(transport)")
            let first = (models.json?["data"] as? [[String: Any]])?.first
            XCTAssertNotNil(first?["pricing"], "\(transport): model pricing passes through")
            XCTAssertNotNil(models.header("x-sluice-cache"), "\(transport)")

            XCTAssertEqual(gateway.recorder.requests.map(\.path), ["/v1/embeddings", "/v1/models"], "\(transport)")
            XCTAssertSameJSON(try XCTUnwrap(gateway.recorder.requests.first).body, body)
            XCTAssertEqual(models.body, gateway.recorder.answers.last?.body)
        }
    }

    func testUnknownV1RoutesAreForwardedAsIs() async throws {
        let daemon = try await startDaemon()
        for transport in Transport.allCases {
            gateway.recorder.reset()
            let generation = try await http.get("/v1/generation?id=gen_\(transport)", to: daemon.endpoint(transport))
            let responses = try await http.post(
                "/v1/responses", to: daemon.endpoint(transport), body: OpenAIRequests.json(["input": "hi \(transport)"])
            )

            XCTAssertEqual(generation.status, 200, "\(transport): \(generation.text)")
            XCTAssertEqual(responses.status, 200, "\(transport): \(responses.text)")
            XCTAssertNotNil(generation.header("x-sluice-cache"), "\(transport)")
            let requests = gateway.recorder.requests
            XCTAssertEqual(requests.map(\.path), ["/v1/generation?id=gen_\(transport)", "/v1/responses"], "\(transport)")
            XCTAssertEqual(requests.map(\.method), ["GET", "POST"])
            XCTAssertEqual(requests.last?.header("authorization"), "Bearer \(DaemonLaunch.upstreamKey)")
        }
    }

    func testRepeatedChatIsAnsweredFromTheCacheWithAnAge() async throws {
        let daemon = try await startDaemon()
        let body = OpenAIRequests.chat("cache me")
        let first = try await http.post("/v1/chat/completions", to: daemon.endpoint(.tcp), body: body)
        let second = try await http.post("/v1/chat/completions", to: daemon.endpoint(.unixSocket), body: body)

        XCTAssertEqual(first.header("x-sluice-cache"), "miss")
        XCTAssertEqual(second.header("x-sluice-cache"), "hit")
        XCTAssertNotNil(second.header("age").flatMap(Int.init), "a hit carries age in seconds")
        XCTAssertEqual(second.body, first.body)
        XCTAssertEqual(gateway.recorder.requests.count, 1, "the hit did not go upstream")
    }

    func testHealthzAnswersOkOnBothListeners() async throws {
        let daemon = try await startDaemon()
        for transport in Transport.allCases {
            let health = try await http.get("/healthz", to: daemon.endpoint(transport))
            XCTAssertEqual(health.status, 200, "\(transport)")
            XCTAssertSameJSON(health.body, Data(#"{"status":"ok"}"#.utf8), "\(transport)")
        }
        XCTAssertTrue(gateway.recorder.requests.isEmpty, "healthz does not go upstream")
    }

    func testNoSecretReachesTheLogsOrTheDatabase() async throws {
        var launch = defaultLaunch()
        launch.arguments = ["--log-level", "trace"]
        let daemon = try await startDaemon(launch)
        let clientKey = "sk-client-secret-4f1d2c"
        for transport in Transport.allCases {
            _ = try await http.post(
                "/v1/chat/completions", to: daemon.endpoint(transport),
                headers: [("authorization", "Bearer \(clientKey)")], body: OpenAIRequests.chat("secret \(transport)")
            )
            _ = try await http.post("/v1/chat/completions", to: daemon.endpoint(transport), body: OpenAIRequests.chat("daemon key \(transport)"))
        }
        XCTAssertEqual(gateway.recorder.requests.count, 4)
        daemon.send(signal: SIGTERM)
        _ = try await daemon.waitForExit()

        let logs = daemon.logs
        XCTAssertFalse(logs.contains(DaemonLaunch.upstreamKey), "the upstream key appears in the logs")
        XCTAssertFalse(logs.contains(clientKey), "a client key appears in the logs")

        let databaseFiles = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("sluice.db") }
        XCTAssertFalse(databaseFiles.isEmpty, "the daemon created its database")
        for file in databaseFiles {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: directory.file(file)))
            XCTAssertNil(bytes.range(of: Data(clientKey.utf8)), "a client key is stored in \(file)")
            XCTAssertNil(bytes.range(of: Data(DaemonLaunch.upstreamKey.utf8)), "the upstream key is stored in \(file)")
        }
    }
}
