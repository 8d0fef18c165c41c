import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `sluice cache purge` is done when it returns: a running daemon purges through
/// its Unix socket (memory front and read snapshots included), and the very
/// next request is a miss.
final class CachePurgeTests: DaemonTestCase {
    func testTheRequestRightAfterAPurgeIsAMiss() async throws {
        let daemon = try await startDaemon()
        let endpoint = try daemon.endpoint(.tcp)
        let body = OpenAIRequests.chat("purged again and again")
        let first = try await http.post(chatPath, to: endpoint, body: body)
        XCTAssertEqual(first.header("x-sluice-cache"), "miss")

        for round in 1...20 {
            // Twice: the second hit is served from the memory front.
            for _ in 1...2 {
                let hit = try await http.post(chatPath, to: endpoint, body: body)
                XCTAssertEqual(hit.header("x-sluice-cache"), "hit", "round \(round)")
            }
            let purge = try await purge(["--all"], daemon: daemon)
            XCTAssertEqual(purge.exitCode, 0, purge.standardError)
            // The answer stored by the last miss may still have been queued for SQLite: it is purged too.
            XCTAssertEqual(purge.standardOutput, "purged 1 cache entry\n", "round \(round)")
            let next = try await http.post(chatPath, to: endpoint, body: body)
            XCTAssertEqual(next.header("x-sluice-cache"), "miss", "round \(round): served a purged answer")
            if next.header("x-sluice-cache") != "miss" { break }
        }
        XCTAssertEqual(gateway.recorder.requests.count, 21)
    }

    func testAModelPurgeKeepsOtherModels() async throws {
        let daemon = try await startDaemon()
        let endpoint = try daemon.endpoint(.unixSocket)
        let mini = OpenAIRequests.chat("to purge", model: "openai/gpt-4o-mini")
        let sonnet = OpenAIRequests.chat("to keep", model: "anthropic/claude-sonnet-4")
        for body in [mini, sonnet] {
            for _ in 1...3 { _ = try await http.post(chatPath, to: endpoint, body: body) }
        }

        let young = try await purge(["--older-than", "1h"], daemon: daemon)
        XCTAssertEqual(young.exitCode, 0, young.standardError)
        XCTAssertEqual(young.standardOutput, "purged 0 cache entries\n", "nothing is an hour old")

        let byModel = try await purge(["--model", "openai/gpt-4o-mini"], daemon: daemon)
        XCTAssertEqual(byModel.exitCode, 0, byModel.standardError)
        XCTAssertEqual(byModel.standardOutput, "purged 1 cache entry\n")
        let purged = try await http.post(chatPath, to: endpoint, body: mini)
        let kept = try await http.post(chatPath, to: endpoint, body: sonnet)
        XCTAssertEqual(purged.header("x-sluice-cache"), "miss")
        XCTAssertEqual(kept.header("x-sluice-cache"), "hit", "--model purges that model only")
    }

    func testWithoutADaemonThePurgeChangesTheDatabaseFile() async throws {
        let daemon = try await startDaemon()
        for index in 0..<2 {
            _ = try await http.post(chatPath, to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("entry \(index)"))
        }
        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success, daemon.standardError)
        let database = DatabaseFile(path: daemon.databasePath)
        XCTAssertEqual(try database.integer("SELECT count(*) FROM cache_entries"), 2)

        // A socket file nobody listens on (a daemon killed with SIGKILL leaves one).
        let stale = directory.file("stale.sock")
        try UnixSocketFile.makeStale(at: stale)
        let viaStale = try await SluiceCommand.run(
            ["cache", "purge", "--model", OpenAIRequests.model, "--db", daemon.databasePath, "--unix", stale], in: directory)
        XCTAssertEqual(viaStale.exitCode, 0, viaStale.standardError)
        XCTAssertEqual(viaStale.standardOutput, "purged 2 cache entries\n")
        XCTAssertEqual(try database.integer("SELECT count(*) FROM cache_entries"), 0)

        for socket in [directory.file("missing.sock"), "off"] {
            let result = try await SluiceCommand.run(
                ["cache", "purge", "--all", "--db", daemon.databasePath, "--unix", socket], in: directory)
            XCTAssertEqual(result.exitCode, 0, "\(socket): \(result.standardError)")
            XCTAssertEqual(result.standardOutput, "purged 0 cache entries\n", socket)
        }
    }

    func testThePurgeRouteIsServedOnTheUnixSocketOnly() async throws {
        let daemon = try await startDaemon()
        let body = OpenAIRequests.chat("kept")
        _ = try await http.post(chatPath, to: daemon.endpoint(.tcp), body: body)
        let purgeAll = Data(#"{"all":true}"#.utf8)

        let overTCP = try await http.post("/sluice/cache/purge", to: daemon.endpoint(.tcp), body: purgeAll)
        XCTAssertEqual(overTCP.status, 404, overTCP.text)
        let stillThere = try await http.post(chatPath, to: daemon.endpoint(.tcp), body: body)
        XCTAssertEqual(stillThere.header("x-sluice-cache"), "hit", "a request over TCP purges nothing")

        let socket = try daemon.endpoint(.unixSocket)
        let wrongMethod = try await http.get("/sluice/cache/purge", to: socket)
        XCTAssertEqual(wrongMethod.status, 405, wrongMethod.text)
        for invalid in [#"{}"#, #"{"all":"yes"}"#, #"{"al":true}"#, #"{"older_than_seconds":-1}"#, "not json"] {
            let refused = try await http.post("/sluice/cache/purge", to: socket, body: Data(invalid.utf8))
            XCTAssertEqual(refused.status, 400, "\(invalid): \(refused.text)")
        }
        let stillHit = try await http.post(chatPath, to: socket, body: body)
        XCTAssertEqual(stillHit.header("x-sluice-cache"), "hit", "refused purges purge nothing")

        let purged = try await http.post("/sluice/cache/purge", to: socket, body: purgeAll)
        XCTAssertEqual(purged.status, 200, purged.text)
        XCTAssertEqual(purged.text, #"{"purged":1}"#)
        let gone = try await http.post(chatPath, to: daemon.endpoint(.tcp), body: body)
        XCTAssertEqual(gone.header("x-sluice-cache"), "miss")
    }

    /// A daemon that answers with an error: the command fails with its message.
    func testADaemonErrorFailsTheCommandWithOneLine() async throws {
        let databasePath = directory.file("present.db")
        XCTAssertTrue(FileManager.default.createFile(atPath: databasePath, contents: nil))
        let socketPath = directory.file("failing.sock")
        let listener = try ListeningSocket.unix(at: socketPath)
        let error = #"{"error":{"message":"database is locked","type":"server_error","param":null,"code":"cache_purge_failed"}}"#
        let answer = "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
            + "content-length: \(error.utf8.count)\r\nconnection: close\r\n\r\n" + error
        let server = Task.detached { () -> String in
            // Never block for good when the command does not connect.
            var ready = pollfd(fd: listener.descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 10_000) == 1 else { return "" }
            let connection = accept(listener.descriptor, nil, nil)
            guard connection >= 0 else { return "" }
            defer { close(connection) }
            var request = [UInt8](repeating: 0, count: 4096)
            let count = request.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
            _ = Array(answer.utf8).withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
            return String(decoding: request.prefix(max(count, 0)), as: UTF8.self)
        }

        let result = try await SluiceCommand.run(
            ["cache", "purge", "--model", "m", "--db", databasePath, "--unix", socketPath], in: directory)
        let request = await server.value
        XCTAssertTrue(request.hasPrefix("POST /sluice/cache/purge HTTP/1.1\r\n"), request)
        XCTAssertTrue(request.hasSuffix(#"{"model":"m"}"#), request)
        XCTAssertNotEqual(result.exitCode, 0)
        XCTAssertEqual(result.standardOutput, "")
        let lines = result.standardError.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.standardError)
        XCTAssertTrue(result.standardError.contains("database is locked"), result.standardError)
        XCTAssertTrue(result.standardError.contains(socketPath), result.standardError)
        withExtendedLifetime(listener) {}
    }

    // MARK: Helpers

    /// `sluice cache purge <arguments>` against `daemon`'s database and socket.
    private func purge(_ arguments: [String], daemon: DaemonProcess) async throws -> CommandResult {
        try await SluiceCommand.run(
            ["cache", "purge"] + arguments + ["--db", daemon.databasePath, "--unix", daemon.socketPath ?? "off"],
            in: directory)
    }
}
