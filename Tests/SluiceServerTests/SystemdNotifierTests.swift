#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import XCTest
@testable import SluiceServer

final class SystemdNotifierTests: XCTestCase {
    func testIsNilWithoutNotifySocket() {
        XCTAssertNil(SystemdNotifier(environment: [:]))
        XCTAssertNil(SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]))
    }

    func testIsNilForAnAddressItCannotReach() {
        XCTAssertNil(SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/notify"]))
        XCTAssertNil(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@"]))
        XCTAssertNil(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "a", count: 107)]))
        XCTAssertNil(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + String(repeating: "a", count: 108)]))
        XCTAssertNil(SystemdNotifier(environment: ["NOTIFY_SOCKET": "vsock:2:1234"]))
    }

    func testAcceptsTheLongestAddressesThatFit() {
        XCTAssertNotNil(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "a", count: 106)]))
        XCTAssertNotNil(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + String(repeating: "a", count: 107)]))
    }

    func testSendsOneDatagramToAPathSocket() throws {
        let receiver = try NotifySocketReceiver(address: temporarySocketPath("notify"))
        let notifier = try XCTUnwrap(SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address]))

        XCTAssertTrue(notifier.send("FDSTORE=0"))

        XCTAssertEqual(receiver.receive(), "FDSTORE=0")
    }

    func testSendsToAnAbstractSocket() throws {
        let receiver = try NotifySocketReceiver(address: "@sluice-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let notifier = try XCTUnwrap(SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address]))

        XCTAssertTrue(notifier.ready(status: "serving"))

        XCTAssertEqual(receiver.receive(), "READY=1\nSTATUS=serving")
    }

    func testMessageContents() throws {
        let receiver = try NotifySocketReceiver(address: temporarySocketPath("messages"))
        let notifier = try XCTUnwrap(SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address]))

        notifier.ready()
        notifier.stopping()
        notifier.status("draining\n3 requests")
        notifier.watchdog()

        XCTAssertEqual(receiver.receive(), "READY=1")
        XCTAssertEqual(receiver.receive(), "STOPPING=1")
        XCTAssertEqual(receiver.receive(), "STATUS=draining 3 requests", "a newline in a status must not start a new assignment")
        XCTAssertEqual(receiver.receive(), "WATCHDOG=1")
    }

    func testReloadingCarriesTheMonotonicTime() throws {
        let receiver = try NotifySocketReceiver(address: temporarySocketPath("reload"))
        let notifier = try XCTUnwrap(SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address]))
        let before = SystemdNotifier.monotonicMicroseconds()

        notifier.reloading()

        let lines = try XCTUnwrap(receiver.receive()).split(separator: "\n")
        let after = SystemdNotifier.monotonicMicroseconds()
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines.first, "RELOADING=1")
        let stamp = try XCTUnwrap(lines.last.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) })
        XCTAssertTrue(lines.last?.hasPrefix("MONOTONIC_USEC=") ?? false)
        XCTAssertTrue((before...after).contains(stamp), "\(stamp) not within \(before)...\(after)")
    }

    func testSendReportsFailureWhenNobodyListens() throws {
        let notifier = try XCTUnwrap(SystemdNotifier(environment: ["NOTIFY_SOCKET": temporarySocketPath("absent")]))

        XCTAssertFalse(notifier.send("READY=1"))
    }
}
