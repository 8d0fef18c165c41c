#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import ServiceLifecycle
import XCTest
@testable import SluiceServer

final class WatchdogServiceTests: XCTestCase {
    func testPingsAtHalfTheWatchdogInterval() {
        let interval = WatchdogService.pingInterval(environment: ["WATCHDOG_USEC": "30000000"], pid: 42)
        XCTAssertEqual(interval, .seconds(15))
    }

    func testAppliesOnlyToTheNamedProcess() {
        XCTAssertEqual(
            WatchdogService.pingInterval(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "42"], pid: 42),
            .seconds(1)
        )
        XCTAssertNil(WatchdogService.pingInterval(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "41"], pid: 42))
        XCTAssertNil(WatchdogService.pingInterval(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "x"], pid: 42))
    }

    func testIsOffWithoutAUsableInterval() {
        XCTAssertNil(WatchdogService.pingInterval(environment: [:], pid: 42))
        XCTAssertNil(WatchdogService.pingInterval(environment: ["WATCHDOG_USEC": "0"], pid: 42))
        XCTAssertNil(WatchdogService.pingInterval(environment: ["WATCHDOG_USEC": "-5"], pid: 42))
        XCTAssertNil(WatchdogService.pingInterval(environment: ["WATCHDOG_USEC": "soon"], pid: 42))
    }

    func testNeedsANotifySocket() {
        XCTAssertNil(WatchdogService(environment: ["WATCHDOG_USEC": "2000000"], pid: getpid()))
        XCTAssertNotNil(WatchdogService(environment: ["WATCHDOG_USEC": "2000000", "NOTIFY_SOCKET": "@sluice"], pid: getpid()))
    }

    func testPingsRepeatedlyAndStopsOnGracefulShutdown() async throws {
        let receiver = try NotifySocketReceiver(address: temporarySocketPath("watchdog"))
        let environment = ["NOTIFY_SOCKET": receiver.address, "WATCHDOG_USEC": "100000"]
        let watchdog = try XCTUnwrap(WatchdogService(environment: environment, pid: getpid()))
        XCTAssertEqual(watchdog.interval, .milliseconds(50))
        let group = ServiceGroup(services: [watchdog], logger: Logger(label: "test"))

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }

            let pings = receiver.receiveAll(during: 400)
            XCTAssertTrue(pings.allSatisfy { $0 == "WATCHDOG=1" }, "\(pings)")
            // About eight pings in 400 ms at a 50 ms interval; allow for a slow machine.
            XCTAssertGreaterThanOrEqual(pings.count, 4)
            XCTAssertLessThanOrEqual(pings.count, 10)

            await group.triggerGracefulShutdown()
            try await tasks.next()
        }

        _ = receiver.receiveAll(during: 20)  // a ping that was already on its way
        XCTAssertEqual(receiver.receiveAll(during: 200), [], "no ping after shutdown")
    }

    func testStopsWhenCancelled() async throws {
        let receiver = try NotifySocketReceiver(address: temporarySocketPath("cancel"))
        let notifier = SystemdNotifier(address: try UnixSocketAddress(receiver.address))
        let watchdog = WatchdogService(notifier: notifier, interval: .seconds(60))

        let task = Task { try await watchdog.run() }
        XCTAssertEqual(receiver.receive(), "WATCHDOG=1", "pings once at start")
        task.cancel()

        try await task.value
    }
}
