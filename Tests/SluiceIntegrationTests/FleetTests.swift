import Foundation
import PostgresTestSupport
import XCTest

/// Fleet mode: three real daemons on one throwaway PostgreSQL cluster act as
/// one (CONTRACT, "Fleet mode"; issue 15).
final class FleetTests: DaemonTestCase, @unchecked Sendable {
    nonisolated(unsafe) private static var cluster: Result<PostgresTestCluster, any Error>?

    override class func setUp() {
        super.setUp()
        cluster = Result { try PostgresTestCluster.start() }
    }

    override class func tearDown() {
        if case .success(let cluster) = cluster { cluster.stop() }
        cluster = nil
        super.tearDown()
    }

    private var cluster: PostgresTestCluster {
        get throws {
            guard let result = Self.cluster else { throw PostgresTestCluster.Failure(description: "no cluster") }
            return try result.get()
        }
    }

    /// A database of this test's, and its URL without the password (which
    /// goes in `PGPASSWORD`, as an operator would keep it out of the config).
    private func freshDatabase() throws -> (url: String, password: String) {
        let cluster = try cluster
        let name = try cluster.createDatabase()
        return ("postgresql://\(cluster.role)@127.0.0.1:\(cluster.port)/\(name)?sslmode=disable", cluster.password)
    }

    /// Starts `count` daemons on `database`, each with its own socket and the same config.
    private func startFleet(_ count: Int, on database: (url: String, password: String), config: String = "") async throws -> [DaemonProcess] {
        let configPath = directory.file("fleet.yaml")
        try Data(("log_level: info\n" + config).utf8).write(to: URL(fileURLWithPath: configPath))
        var daemons: [DaemonProcess] = []
        for index in 0..<count {
            var launch = defaultLaunch()
            launch.name = "fleet-\(index)"
            launch.databasePath = database.url
            launch.environment["PGPASSWORD"] = database.password
            launch.arguments += ["--config", configPath]
            daemons.append(try await startDaemon(launch))
        }
        return daemons
    }

    private func stats(_ database: (url: String, password: String)) async throws -> [[String: Any]] {
        let result = try await SluiceCommand.run(
            ["stats", "--db", database.url, "--by", "cache", "--format", "json"],
            environment: ["PGPASSWORD": database.password], in: directory)
        XCTAssertEqual(result.exitCode, 0, result.standardError)
        return (try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]]) ?? []
    }

    private func requestCount(_ database: (url: String, password: String)) async throws -> Int {
        try await stats(database).reduce(0) { $0 + ($1["requests"] as? Int ?? 0) }
    }

    /// Polls `sluice stats --db URL` until it counts `count` requests.
    private func rowsArrive(in database: (url: String, password: String), atLeast count: Int, within timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await requestCount(database) >= count { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    func testAKeysLimitHoldsAcrossTheFleet() async throws {
        let database = try freshDatabase()
        // Six requests per key in all, refilled one a minute: the test sees the burst only.
        let fleet = try await startFleet(3, on: database, config: """
            limits:
              default: {requests_per_minute: 1, burst: 6, tokens_per_minute: 0}
            """)
        var statuses: [Int] = []
        for index in 0..<12 {
            let daemon = fleet[index % 3]
            let answer = try await http.post(
                chatPath, to: daemon.endpoint(index % 2 == 0 ? .tcp : .unixSocket), body: OpenAIRequests.chat("limited \(index)"))
            statuses.append(answer.status)
        }
        XCTAssertEqual(statuses.filter { $0 == 200 }.count, 6, "six in all, not six per daemon: \(statuses)")
        XCTAssertEqual(statuses.filter { $0 == 429 }.count, 6, "\(statuses)")
        XCTAssertEqual(gateway.recorder.requests.count, 6)
    }

    func testAnAnswerStoredByOneDaemonIsAHitOnEveryOther() async throws {
        let database = try freshDatabase()
        let fleet = try await startFleet(3, on: database)
        let body = OpenAIRequests.chat("shared answer")
        let first = try await http.post(chatPath, to: fleet[0].endpoint(.tcp), body: body)
        XCTAssertEqual(first.header("x-sluice-cache"), "miss")
        for daemon in fleet.dropFirst() {
            var outcome: String?
            // The answer reaches PostgreSQL just after it is served (the write queue).
            for _ in 0..<50 {
                let again = try await http.post(chatPath, to: daemon.endpoint(.unixSocket), body: body)
                outcome = again.header("x-sluice-cache")
                if outcome == "hit" {
                    XCTAssertEqual(again.body, first.body)
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            XCTAssertEqual(outcome, "hit", "\(daemon.launch.name) answers from the shared cache")
        }
        XCTAssertEqual(gateway.recorder.requests.count, 1, "one upstream call for the fleet")

        // Stats over the URL see every daemon's rows.
        let counted = try await rowsArrive(in: database, atLeast: 3, within: .seconds(5))
        XCTAssertTrue(counted, "sluice stats --db URL counts the rows of all three daemons")
        let groups = try await stats(database)
        let hits = groups.first { $0["group"] as? String == "hit" }?["requests"] as? Int
        XCTAssertGreaterThanOrEqual(hits ?? 0, 2)
    }

    func testIdenticalRequestsInFlightAcrossTheFleetMakeOneUpstreamCall() async throws {
        let database = try freshDatabase()
        let fleet = try await startFleet(3, on: database)
        gateway.behavior.fault = .slow(.milliseconds(600))
        let http = self.http!
        let body = OpenAIRequests.chat("one call for the fleet")
        let answers = try await withThrowingTaskGroup(of: HTTPResult.self) { group in
            for index in 0..<9 {
                let endpoint = try fleet[index % 3].endpoint(index % 2 == 0 ? .tcp : .unixSocket)
                group.addTask { try await http.post(chatPath, to: endpoint, body: body) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(gateway.recorder.requests.filter { $0.path.hasSuffix("/chat/completions") }.count, 1,
                       "nine requests on three daemons, one upstream call")
        XCTAssertEqual(answers.map(\.status), Array(repeating: 200, count: 9))
        XCTAssertEqual(Set(answers.map(\.body)).count, 1, "everyone got the same answer")
        let outcomes = answers.compactMap { $0.header("x-sluice-cache") }.sorted()
        XCTAssertEqual(outcomes, Array(repeating: "coalesced", count: 8) + ["miss"])
    }

    func testADaemonThatDiesWhileLeadingHoldsTheOthersUpOnlyUntilItsClaimEnds() async throws {
        let database = try freshDatabase()
        // A claim lasts the upstream timeout plus 5 s: 7 s here.
        let fleet = try await startFleet(2, on: database, config: "upstream_timeout: 2s\n")
        gateway.behavior.fault = .slow(.milliseconds(1500))
        let http = self.http!
        let body = OpenAIRequests.chat("the leader dies")
        let leader = try fleet[0].endpoint(.tcp)
        let doomed = Task { try? await http.post(chatPath, to: leader, body: body) }
        try await Task.sleep(for: .milliseconds(400))
        fleet[0].send(signal: SIGKILL)  // dies holding the claim
        _ = await doomed.value
        let started = ContinuousClock.now
        let answer = try await http.post(chatPath, to: fleet[1].endpoint(.tcp), body: body)
        let waited = ContinuousClock.now - started
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertEqual(answer.header("x-sluice-cache"), "miss", "it asked upstream itself once the claim ended")
        XCTAssertLessThan(waited, .seconds(12), "held up for the rest of the dead daemon's claim, not longer")
    }

    func testAPurgeReachesEveryDaemonsMemory() async throws {
        let database = try freshDatabase()
        let fleet = try await startFleet(2, on: database)
        let body = OpenAIRequests.chat("purge me")
        _ = try await http.post(chatPath, to: fleet[0].endpoint(.tcp), body: body)
        // Read it on the second daemon until it is served from there (memory, after two reads).
        var hits = 0
        for _ in 0..<60 where hits < 3 {
            let again = try await http.post(chatPath, to: fleet[1].endpoint(.tcp), body: body)
            if again.header("x-sluice-cache") == "hit" { hits += 1 } else { try await Task.sleep(for: .milliseconds(50)) }
        }
        XCTAssertEqual(hits, 3)

        // A slow upstream keeps a new answer from being stored before both have looked.
        gateway.behavior.fault = .slow(.milliseconds(500))
        let migrate = try await SluiceCommand.run(
            ["migrate", "--db", database.url], environment: ["PGPASSWORD": database.password], in: directory)
        XCTAssertEqual(migrate.exitCode, 0, migrate.standardError)
        XCTAssertTrue(migrate.standardOutput.hasSuffix(": up to date\n"), "the daemons migrated it: \(migrate.standardOutput)")
        XCTAssertFalse(migrate.standardOutput.contains(database.password))
        let purge = try await SluiceCommand.run(
            ["cache", "purge", "--all", "--db", database.url], environment: ["PGPASSWORD": database.password], in: directory)
        XCTAssertEqual(purge.exitCode, 0, purge.standardError)
        XCTAssertEqual(purge.standardOutput, "purged 1 cache entry\n")
        let http = self.http!
        async let first = http.post(chatPath, to: fleet[0].endpoint(.tcp), body: body)
        async let second = http.post(chatPath, to: fleet[1].endpoint(.tcp), body: body)
        let outcomes = try await [first, second].compactMap { $0.header("x-sluice-cache") }.sorted()
        // Neither is a hit: one asks upstream again, the other shares that call.
        XCTAssertEqual(outcomes, ["coalesced", "miss"], "no daemon serves the purged answer from its memory")
        XCTAssertEqual(gateway.recorder.requests.filter { $0.path.hasSuffix("/chat/completions") }.count, 2)
    }

    func testBudgetsCountWhatEveryDaemonSpent() async throws {
        let database = try freshDatabase()
        // Each answer costs $0.000245 (FakeUsage.standard); the cap is passed after two.
        let fleet = try await startFleet(3, on: database, config: "budgets: {default: {usd_per_day: 0.0004}}\n")
        var request = try XCTUnwrap(JSONSerialization.jsonObject(with: OpenAIRequests.chat("spend 0")) as? [String: Any])
        request["max_tokens"] = 1
        func body(_ index: Int) throws -> Data {
            var copy = request
            copy["messages"] = [["role": "user", "content": "spend \(index)"]]
            return try JSONSerialization.data(withJSONObject: copy)
        }
        let first = try await http.post(chatPath, to: fleet[0].endpoint(.tcp), body: try body(1))
        XCTAssertEqual(first.status, 200, first.text)
        try await Task.sleep(for: .milliseconds(2500))  // the spend is shared every second
        let second = try await http.post(chatPath, to: fleet[1].endpoint(.tcp), body: try body(2))
        XCTAssertEqual(second.status, 200, "$0.000245 of $0.0004 spent: \(second.text)")
        try await Task.sleep(for: .milliseconds(2500))
        let third = try await http.post(chatPath, to: fleet[2].endpoint(.tcp), body: try body(3))
        XCTAssertEqual(third.status, 429, "the third daemon knows the other two spent $0.00049: \(third.text)")
        XCTAssertTrue(third.text.contains("insufficient_quota"), third.text)
        XCTAssertEqual(gateway.recorder.requests.filter { $0.path.hasSuffix("/chat/completions") }.count, 2)
    }

    func testAnOutageLosesNoRowAndServingGoesOn() async throws {
        let database = try freshDatabase()
        let fleet = try await startFleet(1, on: database, config: """
            limits:
              default: {requests_per_minute: 600, burst: 100, tokens_per_minute: 0}
            """)
        let daemon = fleet[0]
        _ = try await http.post(chatPath, to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("before"))
        let cluster = try cluster
        try cluster.pause()
        var resumed = false
        defer { if !resumed { try? cluster.resume() } }

        // PostgreSQL is down: misses are forwarded, limits fall back to the daemon's own.
        for index in 0..<3 {
            let started = ContinuousClock.now
            let answer = try await http.post(chatPath, to: daemon.endpoint(.unixSocket), body: OpenAIRequests.chat("during \(index)"))
            XCTAssertEqual(answer.status, 200, "served while the database is down: \(answer.text)")
            if index > 0 {
                // The first request found the database gone; the next ones do not wait for it.
                XCTAssertLessThan(ContinuousClock.now - started, .seconds(1), "request \(index) waited on the dead database")
            }
        }
        let metrics = try await http.get("/metrics", to: daemon.endpoint(.tcp))
        XCTAssertTrue(metrics.text.contains(#"sluice_failures_total{kind="shared_limits"}"#), "the fallback is counted")
        XCTAssertTrue(daemon.logs.contains("shared rate limits unreachable"), "and logged")
        XCTAssertFalse(daemon.logs.contains(database.password), "no password in the logs")
        XCTAssertFalse(metrics.text.contains(database.password), "nor in /metrics")

        try cluster.resume()
        resumed = true
        let arrived = try await rowsArrive(in: database, atLeast: 4, within: .seconds(20))
        XCTAssertTrue(arrived, "the rows of the outage reach PostgreSQL once it is back")
    }

    func testAWrongPasswordIsAClearErrorThatNamesNoSecret() async throws {
        let database = try freshDatabase()
        var launch = defaultLaunch()
        launch.name = "wrong-password"
        launch.databasePath = database.url.replacingOccurrences(of: "postgresql://sluice@", with: "postgresql://sluice:not-the-password@")
        let daemon = try launchDaemon(launch)
        let exit = try await daemon.waitForExit(timeout: .seconds(20))
        XCTAssertNotEqual(exit.code, 0)
        XCTAssertTrue(daemon.standardError.lowercased().contains("password"), daemon.standardError)
        XCTAssertFalse(daemon.logs.contains("not-the-password"), "the password is never printed: \(daemon.logs)")
        let check = try await SluiceCommand.run(["config", "check", "--db", launch.databasePath!], in: directory)
        XCTAssertTrue(check.standardOutput.contains("postgresql://sluice:***@127.0.0.1"), check.standardOutput)
        XCTAssertFalse(check.standardOutput.contains("not-the-password"))
    }
}
