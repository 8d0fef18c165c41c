import Foundation
import GRDB
import SluiceCore
import XCTest

/// How stored answers live and die: TTL, the size cap, restarts, and the
/// `sluice cache` commands.
final class CacheLifecycleTests: DaemonTestCase {
    func testAnswersExpireAfterTheConfiguredTTL() async throws {
        let daemon = try await InProcessDaemon.start(
            upstream: gateway.baseURL, databasePath: directory.file("in-process.db"),
            cache: CacheSettings(ttl: .seconds(60)))
        addTeardownBlock { try await daemon.stop() }
        let body = OpenAIRequests.chat("ephemeral")

        _ = try await http.post(chatPath, to: daemon.endpoint, body: body)
        daemon.clock.advance(by: .seconds(59))
        let fresh = try await http.post(chatPath, to: daemon.endpoint, body: body)
        daemon.clock.advance(by: .seconds(2))
        let expired = try await http.post(chatPath, to: daemon.endpoint, body: body)
        let refilled = try await http.post(chatPath, to: daemon.endpoint, body: body)

        XCTAssertEqual(fresh.header("x-sluice-cache"), "hit")
        XCTAssertEqual(fresh.header("age"), "59")
        XCTAssertEqual(expired.header("x-sluice-cache"), "miss", "61 s old with ttl 60s")
        XCTAssertEqual(refilled.header("x-sluice-cache"), "hit")
        XCTAssertEqual(refilled.header("age"), "0", "the expired entry was replaced by the fresh answer")
        XCTAssertEqual(gateway.recorder.requests.count, 2)
    }

    /// The sweep runs at start and every 60 s; restarting the daemon is the
    /// quickest way to make it run in a test.
    func testTheSweepEvictsLeastRecentlyUsedEntriesPastMaxSize() async throws {
        let cap = 2048
        let config = try writeConfig("cache: {max_size: 2KiB}\n")
        let first = try await startDaemon(launch(config: config))
        let endpoint = try first.endpoint(.tcp)
        for index in 0..<12 {
            let answer = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("entry \(index)"))
            XCTAssertEqual(answer.header("x-sluice-cache"), "miss")
        }
        let database = DatabaseFile(path: first.databasePath)
        let before = try database.integer("SELECT sum(body_bytes) FROM cache_entries")
        XCTAssertGreaterThan(before, cap, "the test needs more than the cap stored before the sweep")

        try await stopGracefully(first)
        let second = try await startDaemon(launch(config: config))
        let swept = try await eventually { ((try? database.integer("SELECT sum(body_bytes) FROM cache_entries")) ?? .max) <= cap }
        XCTAssertTrue(swept, "stored bodies still total \((try? database.integer("SELECT sum(body_bytes) FROM cache_entries")) ?? -1) bytes")
        let kept = try database.integer("SELECT count(*) FROM cache_entries")
        XCTAssertGreaterThan(kept, 0, "eviction keeps what fits")

        let endpointAfter = try second.endpoint(.tcp)
        let newest = try await http.post(chatPath, to: endpointAfter, body: OpenAIRequests.chat("entry 11"))
        let oldest = try await http.post(chatPath, to: endpointAfter, body: OpenAIRequests.chat("entry 0"))
        XCTAssertEqual(newest.header("x-sluice-cache"), "hit", "the most recently used entry survives")
        XCTAssertEqual(oldest.header("x-sluice-cache"), "miss", "the least recently used entry went first")
    }

    func testARecentHitProtectsAnOldEntryFromEviction() async throws {
        let config = try writeConfig("cache: {max_size: 2KiB}\n")
        let first = try await startDaemon(launch(config: config))
        let endpoint = try first.endpoint(.tcp)
        for index in 0..<12 {
            _ = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("entry \(index)"))
        }
        try await Task.sleep(for: .milliseconds(50))
        let reused = try await http.post(chatPath, to: endpoint, body: OpenAIRequests.chat("entry 0"))
        XCTAssertEqual(reused.header("x-sluice-cache"), "hit")

        try await stopGracefully(first)  // writes the pending hit's last use
        let database = DatabaseFile(path: first.databasePath)
        let second = try await startDaemon(launch(config: config))
        let swept = try await eventually { ((try? database.integer("SELECT sum(body_bytes) FROM cache_entries")) ?? .max) <= 2048 }
        XCTAssertTrue(swept)

        let old = try await http.post(chatPath, to: second.endpoint(.tcp), body: OpenAIRequests.chat("entry 0"))
        let unused = try await http.post(chatPath, to: second.endpoint(.tcp), body: OpenAIRequests.chat("entry 1"))
        XCTAssertEqual(old.header("x-sluice-cache"), "hit", "used last, so evicted last")
        XCTAssertEqual(unused.header("x-sluice-cache"), "miss")
    }

    func testEntriesSurviveARestart() async throws {
        let body = OpenAIRequests.chat("durable")
        let first = try await startDaemon()
        let stored = try await http.post(chatPath, to: first.endpoint(.unixSocket), body: body)
        XCTAssertEqual(stored.header("x-sluice-cache"), "miss")

        try await stopGracefully(first)
        let second = try await startDaemon()
        let again = try await http.post(chatPath, to: second.endpoint(.tcp), body: body)

        XCTAssertEqual(again.header("x-sluice-cache"), "hit")
        XCTAssertEqual(again.body, stored.body)
        XCTAssertEqual(gateway.recorder.requests.count, 1)
    }

    func testCacheStatsAndPurgeThroughTheBinary() async throws {
        let daemon = try await startDaemon()
        let endpoint = try daemon.endpoint(.tcp)
        let mini = OpenAIRequests.chat("to purge", model: "openai/gpt-4o-mini")
        let sonnet = OpenAIRequests.chat("to keep", model: "anthropic/claude-sonnet-4")
        _ = try await http.post(chatPath, to: endpoint, body: mini)
        _ = try await http.post(chatPath, to: endpoint, body: sonnet)
        _ = try await http.post("/v1/embeddings", to: endpoint, body: OpenAIRequests.embeddings(["e"]))
        let db = ["--db", daemon.databasePath]

        let stats = try await SluiceCommand.run(["cache", "stats"] + db, in: directory)
        XCTAssertEqual(stats.exitCode, 0, stats.standardError)
        XCTAssertTrue(stats.standardOutput.contains("entries:  3"), stats.standardOutput)
        for model in ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4", "openai/text-embedding-3-small"] {
            XCTAssertTrue(stats.standardOutput.contains(model), "\(model) in\n\(stats.standardOutput)")
        }

        let refused = try await SluiceCommand.run(["cache", "purge"] + db, in: directory)
        XCTAssertNotEqual(refused.exitCode, 0, "purge without a filter must not empty the cache")
        XCTAssertTrue(refused.standardError.contains("--all"), refused.standardError)

        let byModel = try await SluiceCommand.run(["cache", "purge", "--model", "openai/gpt-4o-mini"] + db, in: directory)
        XCTAssertEqual(byModel.exitCode, 0, byModel.standardError)
        XCTAssertTrue(byModel.standardOutput.contains("purged 1 cache entry"), byModel.standardOutput)
        let purgedModel = try await firstMiss(mini, to: endpoint)
        XCTAssertEqual(purgedModel?.header("x-sluice-cache"), "miss", "purged while the daemon runs")
        let otherModel = try await http.post(chatPath, to: endpoint, body: sonnet)
        XCTAssertEqual(otherModel.header("x-sluice-cache"), "hit", "--model purges that model only")

        let everything = try await SluiceCommand.run(["cache", "purge", "--all"] + db, in: directory)
        XCTAssertEqual(everything.exitCode, 0, everything.standardError)
        XCTAssertTrue(everything.standardOutput.contains("purged 3 cache entries"), everything.standardOutput)
        let afterAll = try await firstMiss(sonnet, to: endpoint)
        XCTAssertEqual(afterAll?.header("x-sluice-cache"), "miss")

        let emptied = try await SluiceCommand.run(["cache", "purge", "--all"] + db, in: directory)
        XCTAssertTrue(emptied.standardOutput.contains("purged 1 cache entry"), emptied.standardOutput)
        let empty = try await SluiceCommand.run(["cache", "stats"] + db, in: directory)
        XCTAssertEqual(empty.standardOutput, "cache is empty\n")
    }

    /// Repeats `body` until the daemon answers it as a miss, for up to 3 s.
    ///
    /// The daemon keeps hot entries in memory, and its lookups reuse a read
    /// snapshot; it drops both when it notices that another process wrote the
    /// database, which it checks every 100 ms: for that long a purged answer may
    /// still be served.
    private func firstMiss(_ body: Data, to endpoint: HTTPEndpoint) async throws -> HTTPResult? {
        let deadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < deadline {
            let answer = try await http.post(chatPath, to: endpoint, body: body)
            if answer.header("x-sluice-cache") != "hit" { return answer }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// SIGTERM, then wait for a clean exit (usage rows and hit counters flushed).
    private func stopGracefully(_ daemon: DaemonProcess) async throws {
        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success, daemon.standardError)
    }
}

// MARK: - Helpers

/// A daemon's SQLite database, read from the test (read-only, while the daemon
/// runs or after it stopped).
struct DatabaseFile {
    let path: String

    /// The first column of the first row of `sql` as an integer (0 for NULL).
    func integer(_ sql: String) throws -> Int {
        try read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    /// The first column of every row of `sql`, as text.
    func strings(_ sql: String) throws -> [String] {
        try read { db in try String.fetchAll(db, sql: sql) }
    }

    /// The bytes of the database file and its write-ahead log, as they lie on disk.
    var rawBytes: Data {
        [path, path + "-wal", path + "-journal"].reduce(into: Data()) { bytes, file in
            bytes += FileManager.default.contents(atPath: file) ?? Data()
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try queue.read(body)
    }
}
