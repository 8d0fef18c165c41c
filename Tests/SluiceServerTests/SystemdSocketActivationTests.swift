#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import XCTest
@testable import SluiceServer

final class SocketActivationTests: XCTestCase {
    /// Far above anything the test process has open, so `dup2` replaces nothing.
    private let firstFD: CInt = 900
    private var openedFDs: [CInt] = []
    private var socketPaths: [String] = []

    override func tearDown() {
        openedFDs.forEach { close($0) }
        socketPaths.forEach { unlink($0) }
        super.tearDown()
    }

    func testFindsTCPAndUnixListenersWithTheirNames() throws {
        let path = temporarySocketPath("activation")
        try place(listeningTCPSocket(), at: firstFD)
        try place(listeningUnixSocket(path: path), at: firstFD + 1)

        let sockets = SocketActivation.inheritedSockets(
            environment: ["LISTEN_PID": "\(getpid())", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "web:local"],
            pid: getpid(),
            firstFD: firstFD
        )

        XCTAssertEqual(sockets, [
            InheritedSocket(fd: firstFD, kind: .tcp, name: "web", path: nil),
            InheritedSocket(fd: firstFD + 1, kind: .unix, name: "local", path: path),
        ])
    }

    func testSetsCloseOnExec() throws {
        try place(listeningTCPSocket(), at: firstFD)
        XCTAssertEqual(fcntl(firstFD, F_GETFD) & FD_CLOEXEC, 0, "dup2 clears close-on-exec")

        _ = SocketActivation.inheritedSockets(
            environment: ["LISTEN_PID": "\(getpid())", "LISTEN_FDS": "1"], pid: getpid(), firstFD: firstFD
        )

        XCTAssertEqual(fcntl(firstFD, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC)
    }

    func testIgnoresVariablesMeantForAnotherProcess() throws {
        try place(listeningTCPSocket(), at: firstFD)

        let sockets = SocketActivation.inheritedSockets(
            environment: ["LISTEN_PID": "\(getpid() + 1)", "LISTEN_FDS": "1"], pid: getpid(), firstFD: firstFD
        )

        XCTAssertEqual(sockets, [])
        XCTAssertEqual(fcntl(firstFD, F_GETFD) & FD_CLOEXEC, 0, "a descriptor that is not ours is left alone")
    }

    func testIgnoresMissingOrMalformedVariables() {
        let pid = "\(getpid())"
        for environment in [
            [:],
            ["LISTEN_FDS": "1"],
            ["LISTEN_PID": pid],
            ["LISTEN_PID": pid, "LISTEN_FDS": "0"],
            ["LISTEN_PID": pid, "LISTEN_FDS": "-1"],
            ["LISTEN_PID": pid, "LISTEN_FDS": "two"],
            ["LISTEN_PID": "me", "LISTEN_FDS": "1"],
        ] {
            XCTAssertEqual(
                SocketActivation.inheritedSockets(environment: environment, pid: getpid(), firstFD: firstFD), [],
                "\(environment)"
            )
        }
    }

    func testNamesAreDroppedWhenTheyDoNotMatchTheCount() throws {
        try place(listeningTCPSocket(), at: firstFD)

        let sockets = SocketActivation.inheritedSockets(
            environment: ["LISTEN_PID": "\(getpid())", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "a:b"],
            pid: getpid(),
            firstFD: firstFD
        )

        XCTAssertEqual(sockets.map(\.name), [nil])
    }

    func testReportsSocketsItCannotServeOn() throws {
        let datagram = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try place(datagram, at: firstFD)
        var pipeEnds: [CInt] = [0, 0]
        XCTAssertEqual(pipe(&pipeEnds), 0)
        openedFDs += [pipeEnds[0]]
        try place(pipeEnds[1], at: firstFD + 1)

        let sockets = SocketActivation.inheritedSockets(
            environment: ["LISTEN_PID": "\(getpid())", "LISTEN_FDS": "2"], pid: getpid(), firstFD: firstFD
        )

        XCTAssertEqual(sockets.map(\.kind), [.unsupported, .unsupported])
    }

    func testAbstractUnixSocketPathIsWrittenWithAnAt() throws {
        let name = "@sluice-activation-\(getpid())"
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let bound = try UnixSocketAddress(name).withSockAddr { bind(descriptor, $0, $1) }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(descriptor, 1), 0)
        try place(descriptor, at: firstFD)

        let sockets = SocketActivation.inheritedSockets(
            environment: ["LISTEN_PID": "\(getpid())", "LISTEN_FDS": "1"], pid: getpid(), firstFD: firstFD
        )

        XCTAssertEqual(sockets.first?.path, name)
    }

    func testRemovesTheVariablesFromTheProcessEnvironment() {
        setenv("LISTEN_PID", "1", 1)
        setenv("LISTEN_FDS", "1", 1)
        setenv("LISTEN_FDNAMES", "x", 1)

        SocketActivation.removeVariablesFromEnvironment()

        XCTAssertNil(getenv("LISTEN_PID"))
        XCTAssertNil(getenv("LISTEN_FDS"))
        XCTAssertNil(getenv("LISTEN_FDNAMES"))
    }

    // MARK: - Helpers

    /// Moves `descriptor` to `target`, as systemd would have placed it.
    private func place(_ descriptor: CInt, at target: CInt) throws {
        guard descriptor >= 0 else { throw SystemCallFailed(call: "socket") }
        defer { close(descriptor) }
        guard dup2(descriptor, target) == target else { throw SystemCallFailed(call: "dup2") }
        openedFDs.append(target)
    }

    private func listeningTCPSocket() throws -> CInt {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SystemCallFailed(call: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 1) == 0 else { throw SystemCallFailed(call: "bind/listen") }
        return descriptor
    }

    private func listeningUnixSocket(path: String) throws -> CInt {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SystemCallFailed(call: "socket") }
        let bound = try UnixSocketAddress(path).withSockAddr { bind(descriptor, $0, $1) }
        guard bound == 0, listen(descriptor, 1) == 0 else { throw SystemCallFailed(call: "bind/listen") }
        socketPaths.append(path)
        return descriptor
    }
}
