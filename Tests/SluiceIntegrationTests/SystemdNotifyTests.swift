import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `sluice serve` under `Type=notify`: the `sd_notify` datagrams systemd would
/// receive (READY, WATCHDOG, RELOADING, STOPPING), received on a socket the test binds.
final class SystemdNotifyTests: DaemonTestCase {
    /// What systemd sets for `WatchdogSec=400ms`; the daemon pings every 200 ms.
    static let watchdogMicroseconds = 400_000

    private var listener: NotifySocketListener?

    override func tearDown() async throws {
        listener?.close()
        listener = nil
        try await super.tearDown()
    }

    func testReadyArrivesWithAStatusOnlyOnceBothListenersAcceptConnections() async throws {
        let listener = try makeListener(.path(directory.file("notify.sock")))
        // Checked on the receiving thread the moment READY arrives, before the test sees it.
        let probeTargets = LockedBox<(port: Int, socket: String)?>(nil)
        let readyProbe = LockedBox<String?>(nil)
        listener.onDatagram { datagram in
            guard datagram.has("READY=1"), readyProbe.current == nil else { return }
            guard let targets = probeTargets.current else {
                readyProbe.withLock { $0 = "READY arrived before the test knew the daemon's addresses" }
                return
            }
            let tcp = SocketProbe.acceptsTCP(port: targets.port)
            let unix = SocketProbe.acceptsUnix(path: targets.socket)
            readyProbe.withLock { $0 = "tcp accepts: \(tcp), unix accepts: \(unix)" }
        }

        let daemon = try launchNotified(listener)
        let port = try XCTUnwrap(daemon.tcpPort)
        let socket = try XCTUnwrap(daemon.socketPath)
        probeTargets.withLock { $0 = (port, socket) }
        let (_, ready) = try await listener.first { $0.has("READY=1") }

        XCTAssertEqual(readyProbe.current, "tcp accepts: true, unix accepts: true")
        let status = try XCTUnwrap(ready.value("STATUS"), "READY=1 carries a STATUS= line: \(ready)")
        XCTAssertTrue(status.contains("127.0.0.1:\(port)"), "the status names the TCP listener: \(status)")
        XCTAssertTrue(status.contains(socket), "the status names the socket: \(status)")
        let beforeReady = listener.datagrams.prefix { !$0.has("READY=1") }
        XCTAssertFalse(beforeReady.contains { $0.has("STOPPING=1") }, "\(beforeReady)")
        let health = try await http.get("/healthz", to: daemon.endpoint(.unixSocket))
        XCTAssertEqual(health.status, 200)
    }

    func testAnAbstractNotifySocketGetsReadyAndStopping() async throws {
        let name = "sluice-it-notify-" + UUID().uuidString.prefix(8).lowercased()
        let listener = try makeListener(.abstract(name))
        XCTAssertEqual(listener.environmentValue, "@" + name)

        let daemon = try launchNotified(listener)
        let (readyIndex, _) = try await listener.first { $0.has("READY=1") }
        daemon.send(signal: SIGTERM)

        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success)
        let (stoppingIndex, _) = try await listener.first(from: readyIndex, within: .seconds(1)) { $0.has("STOPPING=1") }
        XCTAssertGreaterThan(stoppingIndex, readyIndex)
    }

    func testWatchdogPingsArriveAboutEveryHalfInterval() async throws {
        let listener = try makeListener(.path(directory.file("notify.sock")))
        _ = try launchNotified(listener)
        _ = try await listener.first { $0.has("READY=1") }

        let windowStart = ContinuousClock.now
        try await Task.sleep(for: .seconds(1))
        let windowEnd = ContinuousClock.now
        let pings = listener.datagrams.filter { $0.text == "WATCHDOG=1" }
        let inWindow = pings.filter { $0.arrival >= windowStart && $0.arrival <= windowEnd }

        // 200 ms apart: 5 in a second; loose bounds for a busy machine.
        XCTAssertTrue((3...7).contains(inWindow.count), "\(inWindow.count) pings in one second")
        let gaps = zip(inWindow.dropFirst(), inWindow).map { $0.arrival - $1.arrival }
        for gap in gaps {
            XCTAssertGreaterThan(gap, .milliseconds(60), "pings do not come in bursts: \(gaps)")
            XCTAssertLessThan(gap, .milliseconds(400), "a gap as long as WATCHDOG_USEC would let systemd kill the daemon: \(gaps)")
        }
    }

    func testHangupSendsReloadingWithItsMonotonicTimeThenReady() async throws {
        let listener = try makeListener(.path(directory.file("notify.sock")))
        let daemon = try launchNotified(listener)
        let (readyIndex, _) = try await listener.first { $0.has("READY=1") }

        let sentAt = Self.monotonicMicroseconds()
        daemon.send(signal: SIGHUP)
        let (reloadingIndex, reloading) = try await listener.first(from: readyIndex + 1) { $0.has("RELOADING=1") }
        let (_, readyAgain) = try await listener.first(from: reloadingIndex + 1) { $0.has("READY=1") }

        let reloadStart = try XCTUnwrap(reloading.value("MONOTONIC_USEC").flatMap(UInt64.init), "\(reloading)")
        // CLOCK_MONOTONIC is one clock for every process on the machine.
        XCTAssertGreaterThanOrEqual(reloadStart, sentAt)
        XCTAssertLessThan(reloadStart, sentAt + 5_000_000)
        XCTAssertNotNil(readyAgain.value("STATUS"))
        XCTAssertTrue(daemon.isRunning, "SIGHUP reloads, it does not stop the daemon")
        let status = try await http.get("/healthz", to: daemon.endpoint(.tcp)).status
        XCTAssertEqual(status, 200)
    }

    /// A service manager may ask for a reload as soon as READY arrives; SIGHUP's
    /// default action would kill a daemon that did not trap it yet.
    func testHangupTheMomentReadyArrivesIsAReloadNotADeath() async throws {
        let listener = try makeListener(.path(directory.file("notify.sock")))
        let daemonPID = LockedBox<pid_t?>(nil)
        listener.onDatagram { datagram in
            if datagram.has("READY=1"), let pid = daemonPID.current {
                kill(pid, SIGHUP)
            }
        }
        let daemon = try launchNotified(listener)
        daemonPID.withLock { $0 = daemon.processIdentifier }

        let (readyIndex, _) = try await listener.first { $0.has("READY=1") }
        _ = try await listener.first(from: readyIndex + 1, within: .seconds(5)) { $0.has("RELOADING=1") }
        XCTAssertTrue(daemon.isRunning)
    }

    /// Likewise `systemctl stop` right after start: a clean stop, not a death by SIGTERM.
    func testTermTheMomentReadyArrivesStopsCleanly() async throws {
        let listener = try makeListener(.path(directory.file("notify.sock")))
        let daemonPID = LockedBox<pid_t?>(nil)
        listener.onDatagram { datagram in
            if datagram.has("READY=1"), let pid = daemonPID.current {
                kill(pid, SIGTERM)
            }
        }
        let daemon = try launchNotified(listener)
        daemonPID.withLock { $0 = daemon.processIdentifier }

        let exit = try await daemon.waitForExit(timeout: .seconds(20))
        XCTAssertEqual(exit, .success)
        XCTAssertTrue(listener.datagrams.contains { $0.has("STOPPING=1") }, "\(listener.datagrams)")
    }

    func testTermSendsStoppingWhileDrainingAndExitsZero() async throws {
        let listener = try makeListener(.path(directory.file("notify.sock")))
        let daemon = try launchNotified(listener)
        let (readyIndex, _) = try await listener.first { $0.has("READY=1") }
        let status = try await http.post(chatPath, to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("hi")).status
        XCTAssertEqual(status, 200)

        daemon.send(signal: SIGTERM)
        let (stoppingIndex, stopping) = try await listener.first(from: readyIndex + 1) { $0.has("STOPPING=1") }
        let exit = try await daemon.waitForExit()

        XCTAssertEqual(exit, .success)
        XCTAssertNotNil(stopping.value("STATUS"), "\(stopping)")
        let afterStopping = listener.datagrams[(stoppingIndex + 1)...]
        XCTAssertFalse(afterStopping.contains { $0.has("READY=1") }, "no READY after STOPPING: \(Array(afterStopping))")
        XCTAssertEqual(listener.datagrams.filter { $0.has("READY=1") }.count, 1)
    }

    func testWatchdogMeantForAnotherProcessSendsNoPings() async throws {
        let listener = try makeListener(.path(directory.file("notify.sock")))
        // WATCHDOG_PID names the process the watchdog is for; here one that is not the daemon.
        _ = try launchNotified(listener, environment: ["WATCHDOG_PID": "1"])
        _ = try await listener.first { $0.has("READY=1") }

        try await Task.sleep(for: .milliseconds(700))
        XCTAssertEqual(listener.datagrams.filter { $0.has("WATCHDOG=1") }.count, 0, "\(listener.datagrams)")
    }

    func testANotifySocketNobodyListensOnDoesNotStopTheDaemon() async throws {
        var launch = defaultLaunch()
        launch.environment = [
            "NOTIFY_SOCKET": directory.file("nobody-here.sock"),
            "WATCHDOG_USEC": String(Self.watchdogMicroseconds),
        ]
        let daemon = try await startDaemon(launch)
        let status = try await http.post(chatPath, to: daemon.endpoint(.tcp), body: OpenAIRequests.chat("hi")).status
        XCTAssertEqual(status, 200)

        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success)
    }

    func testANotifySocketThatIsNoAddressIsIgnored() async throws {
        var launch = defaultLaunch()
        launch.environment = ["NOTIFY_SOCKET": "relative/notify.sock", "WATCHDOG_USEC": "not-a-number"]
        let daemon = try await startDaemon(launch)

        daemon.send(signal: SIGTERM)
        let exit = try await daemon.waitForExit()
        XCTAssertEqual(exit, .success)
    }

    // MARK: Helpers

    private func makeListener(_ address: NotifySocketListener.Address) throws -> NotifySocketListener {
        let listener = try NotifySocketListener(address)
        self.listener = listener
        return listener
    }

    /// Starts `sluice serve` as systemd would with `NOTIFY_SOCKET` and `WatchdogSec=`,
    /// without waiting for it: READY is what tells the test it serves.
    private func launchNotified(_ listener: NotifySocketListener, environment: [String: String] = [:]) throws -> DaemonProcess {
        var launch = defaultLaunch()
        launch.environment = [
            "NOTIFY_SOCKET": listener.environmentValue,
            "WATCHDOG_USEC": String(Self.watchdogMicroseconds),
        ].merging(environment) { _, test in test }
        return try launchDaemon(launch)
    }

    private static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}
