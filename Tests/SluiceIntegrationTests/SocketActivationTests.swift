import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `sluice serve` started by a `.socket` unit: it serves on the sockets it
/// inherits (`LISTEN_FDS`) instead of binding the configured ones.
final class SocketActivationTests: DaemonTestCase {
    private var activated: ActivatedDaemon?

    override func tearDown() async throws {
        if let activated {
            await activated.stop()
            if let run = testRun, run.failureCount + run.unexpectedExceptionCount > 0 {
                print("--- stderr of the activated daemon (\(name)) ---\n\(activated.standardError.suffix(4000))")
            }
        }
        activated = nil
        try await super.tearDown()
    }

    func testServesOnBothInheritedSocketsAndBindsNothingOfItsOwn() async throws {
        let tcp = try ListeningSocket.tcpOnLoopback()
        let unix = try ListeningSocket.unix(at: directory.file("activated.sock"))
        let configuredPort = try FreePort.make()
        let configuredSocket = directory.file("configured.sock")
        let daemon = try activate([tcp, unix], names: ["tcp", "unix"], configuredPort: configuredPort, configuredSocket: configuredSocket)
        let overTCP = HTTPEndpoint.tcp(host: "127.0.0.1", port: try XCTUnwrap(tcp.port))
        let overUnix = HTTPEndpoint.unixSocket(path: try XCTUnwrap(unix.path))
        try await waitUntilHealthy(daemon, at: overTCP)

        let tcpHealth = try await http.get("/healthz", to: overTCP)
        let unixHealth = try await http.get("/healthz", to: overUnix)
        let miss = try await http.post(chatPath, to: overTCP, body: OpenAIRequests.chat("activated"))
        let hit = try await http.post(chatPath, to: overUnix, body: OpenAIRequests.chat("activated"))
        let other = try await http.post(chatPath, to: overUnix, body: OpenAIRequests.chat("over the socket"))

        XCTAssertEqual([tcpHealth.status, unixHealth.status], [200, 200])
        XCTAssertEqual(unixHealth.json?["status"] as? String, "ok")
        XCTAssertEqual([miss.status, hit.status, other.status], [200, 200, 200])
        XCTAssertEqual([miss.header("x-sluice-cache"), hit.header("x-sluice-cache"), other.header("x-sluice-cache")], ["miss", "hit", "miss"])
        XCTAssertEqual(miss.json?["object"] as? String, "chat.completion")
        XCTAssertEqual(gateway.recorder.requests.count, 2, "one daemon behind both sockets, one cache")

        XCTAssertFalse(UnixSocketFile.exists(at: configuredSocket), "the configured socket is not created when sockets are inherited")
        XCTAssertFalse(SocketProbe.acceptsTCP(port: configuredPort), "the configured TCP port is not bound when sockets are inherited")

        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success)
        XCTAssertTrue(UnixSocketFile.isSocket(at: try XCTUnwrap(unix.path)), "the socket file belongs to systemd: the daemon leaves it")
        XCTAssertTrue(daemon.standardError.contains("inherited fd 3"), "the log says where it serves")
    }

    func testADatagramSocketIsRefusedWithOneClearLine() async throws {
        let udp = try ListeningSocket.udpOnLoopback()
        let daemon = try activate([udp], names: ["sluice"], configuredPort: try FreePort.make(), configuredSocket: directory.file("configured.sock"))

        let exit = try await daemon.waitForExit(timeout: .seconds(20))

        XCTAssertEqual(exit.cause, .exited)
        XCTAssertNotEqual(exit.code, 0)
        let errorLines = daemon.standardError.split(separator: "\n").filter { $0.contains("fd 3") }
        XCTAssertEqual(errorLines.count, 1, daemon.standardError)
        XCTAssertTrue(errorLines.first?.contains("not a stream socket") == true, daemon.standardError)
        XCTAssertFalse(UnixSocketFile.exists(at: directory.file("configured.sock")), "no fallback to binding its own socket")
    }

    // MARK: Helpers

    private func activate(
        _ sockets: [ListeningSocket], names: [String], configuredPort: Int, configuredSocket: String
    ) throws -> ActivatedDaemon {
        let arguments = ["serve",
                         "--tcp", "127.0.0.1:\(configuredPort)",
                         "--unix", configuredSocket,
                         "--db", directory.file("activated.db"),
                         "--upstream", gateway.baseURL]
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": directory.path,
            "LANG": "C.UTF-8",
            "VERCEL_AI_GATEWAY_API_KEY": DaemonLaunch.upstreamKey,
        ]
        let daemon = try ActivatedDaemon(arguments: arguments, sockets: sockets, names: names, environment: environment, in: directory)
        activated = daemon
        return daemon
    }

    /// The test's socket accepts connections from the start (the kernel queues
    /// them, as for systemd), so `/healthz` answering is what shows the daemon serves.
    private func waitUntilHealthy(_ daemon: ActivatedDaemon, at endpoint: HTTPEndpoint) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            guard daemon.isRunning else {
                XCTFail("the activated daemon ended before serving; stderr:\n\(daemon.standardError)")
                throw CancellationError()
            }
            if let answer = try? await http.get("/healthz", to: endpoint), answer.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTFail("the activated daemon did not answer /healthz within 20 s; stderr:\n\(daemon.standardError)")
        throw CancellationError()
    }
}
